import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlayableItem } from '@loa/protocols';
import type { ManualClock } from '../../src/hardware/manual-clock.js';

export const RATE = 48_000;

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Frequency of a steady tone from its zero crossings. */
export function zeroCrossingHz(pcm: ArrayLike<number>, rate = RATE): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] as number) < 0 !== (pcm[i] as number) < 0) crossings++;
  return crossings / 2 / (pcm.length / rate);
}

/** Power of one frequency in a block (Goertzel), normalised to the block length. */
export function goertzel(pcm: ArrayLike<number>, hz: number, rate = RATE): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = (pcm[i] as number) + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (pcm.length * pcm.length);
}

/** The strongest frequency between `from` and `to` Hz, in 1 Hz steps. */
export function peakHz(pcm: ArrayLike<number>, from: number, to: number): number {
  let best = from;
  let bestPower = -1;
  for (let hz = from; hz <= to; hz++) {
    const power = goertzel(pcm, hz);
    if (power > bestPower) {
      best = hz;
      bestPower = power;
    }
  }
  return best;
}

export function rms(pcm: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Parses a PCM WAV file strictly (chunk by chunk), as a player would. */
export function parseWav(file: Buffer): { channels: number; sampleRate: number; bits: number; samples: Int16Array } {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not WAV');
  if (file.readUInt32LE(4) !== file.length - 8) throw new Error(`RIFF size ${file.readUInt32LE(4)} of ${file.length}`);
  let at = 12;
  let format: { channels: number; sampleRate: number; bits: number } | undefined;
  while (at + 8 <= file.length) {
    const id = file.toString('ascii', at, at + 4);
    const size = file.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (file.readUInt16LE(body) !== 1) throw new Error('not PCM');
      format = {
        channels: file.readUInt16LE(body + 2),
        sampleRate: file.readUInt32LE(body + 4),
        bits: file.readUInt16LE(body + 14),
      };
      if (file.readUInt32LE(body + 8) !== format.sampleRate * format.channels * (format.bits / 8))
        throw new Error('byte rate');
    } else if (id === 'data') {
      if (!format) throw new Error('data before fmt');
      if (body + size > file.length) throw new Error('data chunk runs past the end');
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = file.readInt16LE(body + i * 2);
      return { ...format, samples };
    }
    at = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Runs a ManualClock in small steps until the promise settles, letting real I/O and wasm work in between. */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs = 10, limitMs = 120_000): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let t = 0; !settled && t < limitMs; t += stepMs) {
    await clock.advance(stepMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return promise;
}

/** Advances a ManualClock by `ms` in small steps (as drive does), whatever is pending. */
export async function advanceBy(clock: ManualClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits in real time until a condition holds (decoding happens in real time). */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function playable(over: Partial<PlayableItem> = {}): PlayableItem {
  return {
    itemId: 'item-1',
    priority: 'normal',
    startMode: 'hard',
    volume: 100,
    repeat: 1,
    prelude: 'none',
    segments: [],
    ...over,
  };
}

/** A directory with executable scripts, to put first on PATH. */
export function scriptDir(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'loa-audio-bin-'));
  for (const [name, body] of Object.entries(scripts)) {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  }
  return dir;
}

/** Whether a command is on PATH (Debian's opusenc for a cross-check). */
export function have(command: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
