import { spawn } from 'node:child_process';
import type { AudioOutput, AudioSink, PcmFormat } from '../hardware/seams.js';

/**
 * Sound through ALSA's `aplay`, fed raw PCM on stdin. A subprocess keeps native audio
 * code out of the agent; if aplay dies (no device, device busy) the output fails and the
 * renderer reports audio_device_error.
 */
export class AlsaSink implements AudioSink {
  constructor(
    private readonly device = 'default',
    private readonly command = 'aplay',
  ) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const child = spawn(
      this.command,
      [
        '-q',
        '-t',
        'raw',
        '-f',
        'S16_LE',
        '-r',
        String(format.sampleRate),
        '-c',
        String(format.channels),
        '-D',
        this.device,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-500);
    });
    let failure: Error | undefined;
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (error) => {
        failure = new Error(`cannot start ${this.command}: ${error.message}`);
        resolve(null);
      });
      child.once('exit', (code) => resolve(code));
    });
    child.stdin.on('error', () => {});
    const fail = () => failure ?? new Error(`${this.command} failed: ${stderr.trim() || 'exited early'}`);
    return {
      async write(pcm) {
        if (failure || child.exitCode !== null) throw fail();
        const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
        if (!child.stdin.write(data)) {
          await Promise.race([
            new Promise((resolve) => child.stdin.once('drain', resolve)),
            exited.then(() => {
              throw fail();
            }),
          ]);
        }
      },
      async drain() {
        child.stdin.end();
        const code = await exited;
        if (code !== 0) throw fail();
      },
      async abort() {
        child.kill('SIGTERM');
        await exited;
      },
      async close() {
        if (child.exitCode === null) child.kill('SIGTERM');
      },
    };
  }
}
