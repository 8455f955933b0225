import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * `seconds` of a sine at `hz` as a 64 kbit/s MP3 (no Xing or ID3 header, so copies loop
 * cleanly), by Debian's ffmpeg: −8.5 dBFS peak (lavfi's sine is −18 dBFS, raised ×3).
 */
export function mp3Tone(hz: number, seconds: number): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${hz}:sample_rate=44100:duration=${seconds}`,
      '-af',
      'volume=3',
      '-ac',
      '1',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '64k',
      '-write_xing',
      '0',
      '-id3v2_version',
      '0',
      '-f',
      'mp3',
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * A radio station for relay tests, as Icecast serves one: every listener gets the MP3
 * looped for ever, in real time (a one-second burst first, then 100 ms of bytes every
 * 100 ms, a little faster than the audio so the relay's reader sets the pace). `kill()`
 * drops every listener and stops listening, as a station that crashed; `listen()` again
 * comes back on the same port.
 */
export class ToneStation {
  readonly #sockets = new Set<Socket>();
  readonly #bytesPerTick: number;
  #server: Server | undefined;
  #port = 0;
  /** Listeners that connected so far. */
  requests = 0;

  constructor(
    private readonly mp3: Buffer,
    seconds: number,
  ) {
    this.#bytesPerTick = Math.ceil((mp3.length / seconds / 10) * 1.1);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/radio.mp3`;
  }

  async listen(): Promise<string> {
    if (this.#server) return this.url;
    const server = createServer((request, response) => {
      this.requests++;
      response.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-cache' });
      let at = 0;
      const send = () => {
        const end = Math.min(this.mp3.length, at + this.#bytesPerTick);
        response.write(this.mp3.subarray(at, end));
        at = end === this.mp3.length ? 0 : end;
      };
      for (let i = 0; i < 10; i++) send();
      const timer = setInterval(send, 100);
      request.on('close', () => clearInterval(timer));
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
    return this.url;
  }

  async kill(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
