import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { AudioOutput, AudioSink, PcmFormat } from '../hardware/seams.js';

const HEADER_BYTES = 44;

/** The canonical 44-byte header of a PCM WAV file (16-bit samples). */
export function wavHeader(format: PcmFormat, dataBytes: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * format.channels * 2, 28); // bytes per second
  header.writeUInt16LE(format.channels * 2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * Writes each opened output to its own WAV file, `output-0001.wav`, `output-0002.wav`, …
 * in a directory (tests, bench receivers without a sound card). The header is completed
 * when the output is closed, after a drain or an abort (an aborted item keeps what was
 * written before the abort). Nothing here plays in real time: the renderer's pacing on
 * its clock decides how fast the file grows.
 */
export class WavFileSink implements AudioSink {
  /** The files written, in order. */
  readonly files: string[] = [];
  #n = 0;

  constructor(private readonly dir: string) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const path = join(this.dir, `output-${String(++this.#n).padStart(4, '0')}.wav`);
    this.files.push(path);
    const file = await open(path, 'w');
    await file.write(wavHeader(format, 0), 0, HEADER_BYTES, 0);
    let bytes = 0;
    let closed = false;
    return {
      async write(pcm) {
        if (closed) throw new Error(`${path} is closed`);
        const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
        await file.write(data, 0, data.length, HEADER_BYTES + bytes);
        bytes += data.length;
      },
      async drain() {},
      async abort() {},
      async close() {
        if (closed) return;
        closed = true;
        try {
          await file.write(wavHeader(format, bytes), 0, HEADER_BYTES, 0);
        } finally {
          await file.close();
        }
      },
    };
  }
}
