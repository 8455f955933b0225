import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { AudioOutput, AudioSink, PcmFormat } from '../hardware/seams.js';

/** Writes each opened output to its own WAV file (tests; a receiver without a sound card). */
export class WavFileSink implements AudioSink {
  readonly files: string[] = [];
  #n = 0;

  constructor(private readonly dir: string) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const path = join(this.dir, `output-${String(++this.#n).padStart(4, '0')}.wav`);
    this.files.push(path);
    const file = await open(path, 'w');
    await file.write(Buffer.alloc(44), 0, 44, 0);
    let bytes = 0;
    const finish = async () => {
      const header = Buffer.alloc(44);
      header.write('RIFF', 0);
      header.writeUInt32LE(36 + bytes, 4);
      header.write('WAVEfmt ', 8);
      header.writeUInt32LE(16, 16);
      header.writeUInt16LE(1, 20);
      header.writeUInt16LE(format.channels, 22);
      header.writeUInt32LE(format.sampleRate, 24);
      header.writeUInt32LE(format.sampleRate * format.channels * 2, 28);
      header.writeUInt16LE(format.channels * 2, 32);
      header.writeUInt16LE(16, 34);
      header.write('data', 36);
      header.writeUInt32LE(bytes, 40);
      await file.write(header, 0, 44, 0);
      await file.close();
    };
    let closed = false;
    return {
      async write(pcm) {
        const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
        await file.write(data, 0, data.length, 44 + bytes);
        bytes += data.length;
      },
      async drain() {},
      async abort() {},
      async close() {
        if (closed) return;
        closed = true;
        await finish();
      },
    };
  }
}
