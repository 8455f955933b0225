import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** What ffmpeg makes a tone into, as a radio station would stream it. */
const FORMATS = {
  mp3: {
    args: ['-c:a', 'libmp3lame', '-b:a', '64k', '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3'],
    mime: 'audio/mpeg',
  },
  aac: { args: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'], mime: 'audio/aac' },
} as const;
export type StreamFormat = keyof typeof FORMATS;

/** `seconds` of a sine at `hz` (-12 dBFS peak), encoded by the system ffmpeg. */
export function toneFile(hz: number, seconds: number, format: StreamFormat): Buffer {
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
      'volume=0.25',
      '-ac',
      '1',
      ...FORMATS[format].args,
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * A stand-in for an Icecast server: every listener gets the file looped for ever, written
 * in real time (100 ms of bytes every 100 ms, after a 1 s burst, as Icecast sends), so the
 * relay sees a live stream. kill() drops every listener at once, as a crashed station does.
 */
export class ToneStreamServer {
  readonly #file: Buffer;
  readonly #mime: string;
  readonly #bytesPerTick: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  /** Requests answered so far. */
  requests = 0;

  constructor(file: Buffer, format: StreamFormat, seconds: number) {
    this.#file = file;
    this.#mime = FORMATS[format].mime;
    // A little faster than real time: the relay's ffmpeg (-re) takes it at the stream's pace.
    this.#bytesPerTick = Math.ceil((file.length / seconds / 10) * 1.1);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/stream`;
  }

  /** Listens (again on the same port after kill(), like a station coming back). */
  async listen(): Promise<string> {
    const server = createServer((request, response) => {
      this.requests++;
      response.writeHead(200, { 'content-type': this.#mime, 'cache-control': 'no-cache' });
      let at = 0;
      const send = () => {
        const end = Math.min(this.#file.length, at + this.#bytesPerTick);
        response.write(this.#file.subarray(at, end));
        at = end === this.#file.length ? 0 : end;
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
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
    return this.url;
  }

  /** Stops listening and cuts every listener off. */
  async kill(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Power of `samples` at `hz` (Goertzel), normalised by length. */
export function powerAt(samples: Float32Array, hz: number, rate = 48_000): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}

/** Which of the candidate tones `samples` holds (the strongest), or undefined for near silence. */
export function dominantTone(samples: Float32Array, candidates: number[], rate = 48_000): number | undefined {
  let rms = 0;
  for (const x of samples) rms += x * x;
  if (samples.length === 0 || Math.sqrt(rms / samples.length) < 0.01) return undefined;
  const powers = candidates.map((hz) => powerAt(samples, hz, rate));
  return candidates[powers.indexOf(Math.max(...powers))];
}
