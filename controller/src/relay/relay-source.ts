import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PCM_OUTPUT_ARGS } from '../audio/decoding/ffmpeg.js';

/** How a source ended: ffmpeg's exit (code or signal) and the last thing it said. */
export interface SourceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ffmpeg's error lines, or why it could not be started; empty when stopped by us. */
  detail: string;
  /** True when stop() ended it. */
  stopped: boolean;
}

export interface RelaySourceOptions {
  url: string;
  /** The ffmpeg command (config FFMPEG_PATH). */
  ffmpegPath?: string;
  /** Connect and read timeout: no bytes for this long and ffmpeg gives up (config RELAY_TIMEOUT_S). */
  timeoutMs?: number;
  /** Gets the stream as 48 kHz mono float PCM, each chunk with the time it arrived. */
  onPcm: (samples: Float32Array, at: number) => void;
  /** Called once, when ffmpeg has exited (or could not start). */
  onExit?: (exit: SourceExit) => void;
  now?: () => number;
}

/** How long ffmpeg gets to exit after SIGTERM before it is killed. */
const KILL_AFTER_MS = 1000;
/** Only network protocols: a redirect or playlist must not make ffmpeg open a local file. */
const PROTOCOLS = 'http,https,tcp,tls';

/** ffmpeg's arguments for pulling one stream as real-time 48 kHz mono float PCM. */
export function ffmpegRelayArgs(url: string, timeoutMs: number): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-protocol_whitelist',
    PROTOCOLS,
    // Microseconds: covers the connection and every read after it.
    '-rw_timeout',
    String(Math.round(timeoutMs * 1000)),
    '-user_agent',
    'loa-controller relay',
    // Read at the stream's own pace: a server's opening burst must not run ahead of the air.
    '-re',
    '-i',
    url,
    ...PCM_OUTPUT_ARGS,
  ];
}

/**
 * One HTTP radio stream (MP3, AAC, Ogg Vorbis/Opus: whatever ffmpeg reads) pulled by
 * Debian's ffmpeg and handed on as 48 kHz mono float PCM as it arrives. It does not
 * reconnect by itself: when the stream stops, ffmpeg exits and the relay decides what
 * to do (fall back, try again later). stop() always leaves no process behind.
 */
export class RelaySource {
  readonly #child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<SourceExit>;
  #stopping = false;
  #stderr = '';

  constructor(options: RelaySourceOptions) {
    const now = options.now ?? Date.now;
    this.#child = spawn(options.ffmpegPath ?? 'ffmpeg', ffmpegRelayArgs(options.url, options.timeoutMs ?? 10_000), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let spawnError: string | undefined;
    this.exited = new Promise((resolve) => {
      // A failed spawn (no such command) emits 'error' and then 'close'.
      this.#child.on('error', (error) => {
        spawnError = `ffmpeg could not be started (${error.message})`;
      });
      this.#child.on('close', (code, signal) =>
        resolve(this.#exit(spawnError ? null : code, signal, spawnError ?? lastLines(this.#stderr), options.onExit)),
      );
    });
    this.#child.stderr.on('data', (d: Buffer) => {
      if (this.#stderr.length < 8000) this.#stderr += d.toString();
    });
    let carry: Buffer = Buffer.alloc(0);
    this.#child.stdout.on('data', (data: Buffer) => {
      if (this.#stopping) return;
      const bytes = carry.length > 0 ? Buffer.concat([carry, data]) : data;
      const whole = bytes.length - (bytes.length % 4);
      carry = Buffer.from(bytes.subarray(whole));
      if (whole === 0) return;
      // Copied: the pipe's buffer is reused and rarely 4-byte aligned.
      const samples = new Float32Array(whole / 4);
      Buffer.from(samples.buffer).set(bytes.subarray(0, whole));
      options.onPcm(samples, now());
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Ends ffmpeg (SIGTERM, SIGKILL after a second) and resolves once it has exited and been reaped. */
  async stop(): Promise<SourceExit> {
    this.#stopping = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), KILL_AFTER_MS);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }

  #exit(
    code: number | null,
    signal: NodeJS.Signals | null,
    detail: string,
    onExit: RelaySourceOptions['onExit'],
  ): SourceExit {
    const exit: SourceExit = {
      code,
      signal,
      stopped: this.#stopping,
      detail: this.#stopping
        ? ''
        : detail || (code === 0 ? 'the stream ended' : `ffmpeg exited (${signal ?? `code ${code}`})`),
    };
    onExit?.(exit);
    return exit;
  }
}

/** The last two lines ffmpeg wrote (with -v error, what went wrong). */
function lastLines(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join('; ')
    .slice(0, 300);
}
