import { type ChildProcess, spawn } from 'node:child_process';
import type { AudioOutput, AudioSink, PcmFormat } from '../hardware/seams.js';

/** How long aplay may take to die after SIGTERM before it gets SIGKILL. */
export const KILL_AFTER_MS = 1000;

/**
 * aplay's own buffering, for sound that must be heard when the writer says (live
 * sessions). By default aplay buffers up to 500 ms and starts only once its buffer is
 * full, so what is written is heard an unknown while later; with a small buffer and an
 * immediate start, sound is heard as soon as it is written, as the renderer's pacing assumes.
 */
export interface AplayTiming {
  /** ALSA buffer (`--buffer-time`): room for what the writer keeps ahead. */
  bufferMs: number;
  /** ALSA period (`--period-time`): aplay also reads its input a period at a time. */
  periodMs: number;
}

/** Live sessions write at most 100 ms ahead: a 200 ms buffer never holds them up, 10 ms periods add little. */
export const LIVE_APLAY_TIMING: AplayTiming = { bufferMs: 200, periodMs: 10 };

/** The arguments of `aplay` for raw 16-bit little-endian PCM on a device. */
export function aplayArgs(device: string, format: PcmFormat, timing?: AplayTiming): string[] {
  const timed = timing
    ? [
        `--buffer-time=${Math.round(timing.bufferMs * 1000)}`,
        `--period-time=${Math.round(timing.periodMs * 1000)}`,
        // A start delay of 1 µs: playback starts with the first sample written, not a full buffer.
        '--start-delay=1',
      ]
    : [];
  return [
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
    device,
    ...timed,
  ];
}

/** The sound device failed: aplay could not start, or died, or exited with an error. */
export class AudioDeviceError extends Error {}

/**
 * Sound through ALSA's `aplay` (Debian package alsa-utils), fed raw PCM on its standard
 * input. A subprocess keeps native audio code out of the agent, and a crash of the sound
 * stack out of its process.
 *
 * - Back-pressure: `write` resolves once aplay has taken the data (the pipe drained), so
 *   the writer can never run more than a pipe's worth (~0.7 s at 48 kHz mono) ahead.
 * - `drain` closes aplay's input and waits for it to play out and exit.
 * - `abort` kills aplay (SIGTERM, then SIGKILL): it drops its buffer and stops at once.
 * - A spawn error, an early exit or a non-zero exit code becomes an AudioDeviceError with
 *   aplay's last words (its stderr); the renderer reports it as `audio_device_error`.
 */
export class AlsaSink implements AudioSink {
  constructor(
    private readonly device = 'default',
    /** The player; `aplay` from PATH unless told otherwise. */
    private readonly command = 'aplay',
    private readonly killAfterMs = KILL_AFTER_MS,
    /** aplay's buffering (live sessions); aplay's defaults without it. */
    private readonly timing?: AplayTiming,
  ) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const { command, killAfterMs } = this;
    const child = spawn(command, aplayArgs(this.device, format, this.timing), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-500);
    });
    let spawnError: Error | undefined;
    let killedByUs = false;
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (error) => {
        spawnError = error;
        resolve(null);
      });
      child.once('close', (code) => resolve(code));
    });
    // EPIPE when aplay dies with data still to write: the exit is what gets reported.
    child.stdin?.on('error', () => {});
    const failure = (code?: number | null) =>
      new AudioDeviceError(
        spawnError
          ? `cannot start ${command}: ${spawnError.message}`
          : `${command} ${code === undefined ? 'ended early' : code === null ? 'was killed' : `exited with ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
      );
    const started = await Promise.race([
      new Promise<true>((resolve) => child.once('spawn', () => resolve(true))),
      exited.then(() => false as const),
    ]);
    if (!started) throw failure(child.exitCode);
    const stdin = child.stdin;
    if (!stdin) throw failure();
    let ended = false;
    const dead = () => ended || child.exitCode !== null || child.signalCode !== null || spawnError !== undefined;

    return {
      async write(pcm) {
        if (dead()) throw failure(child.exitCode);
        const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
        if (stdin.write(data)) return;
        const drained = await Promise.race([
          new Promise<true>((resolve) => stdin.once('drain', () => resolve(true))),
          exited.then(() => false as const),
        ]);
        if (!drained) throw failure(child.exitCode);
      },
      async drain() {
        if (!ended) {
          ended = true;
          stdin.end();
        }
        const code = await exited;
        if (code !== 0 && !killedByUs) throw failure(code);
      },
      async abort() {
        killedByUs = true;
        await stop(child, exited, killAfterMs);
      },
      async close() {
        killedByUs = true;
        await stop(child, exited, killAfterMs);
      },
    };
  }
}

/** Ends a child process: SIGTERM, SIGKILL if it lingers; resolves when it has gone. */
async function stop(child: ChildProcess, exited: Promise<unknown>, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await exited;
    return;
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
