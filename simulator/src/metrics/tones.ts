/**
 * Tone analysis for recordings of generated test audio: which of a few known tones a
 * stretch of sound holds, window by window, so a check can say "these tones, in this
 * order" of what a receiver played.
 */

/** Power of `samples[from, to)` at `hz` (Goertzel), per sample². */
export function powerAt(samples: ArrayLike<number>, hz: number, rate: number, from = 0, to = samples.length): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = (samples[i] as number) + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = Math.max(1, to - from);
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n);
}

export interface ToneWindow {
  /** Start of the window, ms from the start of the samples. */
  atMs: number;
  /** The strongest candidate, or undefined for near silence or no clear winner. */
  hz: number | undefined;
}

/**
 * The dominant candidate tone of each `windowMs` window: the strongest, if the window is
 * louder than `minRms` (of full scale 32768), the winner holds at least `dominance` of
 * the candidates' power, and it carries at least `energyShare` of the window's energy (a
 * window across a change of tone, noise, or a tone that is none of the candidates has no
 * dominant one).
 */
export function dominantTones(
  samples: Int16Array,
  rate: number,
  candidates: readonly number[],
  options: { windowMs?: number; minRms?: number; dominance?: number; energyShare?: number } = {},
): ToneWindow[] {
  const size = Math.round((rate * (options.windowMs ?? 100)) / 1000);
  const minRms = (options.minRms ?? 0.01) * 32768;
  const dominance = options.dominance ?? 0.8;
  const energyShare = options.energyShare ?? 0.5;
  const out: ToneWindow[] = [];
  for (let from = 0; from + size <= samples.length; from += size) {
    let sum = 0;
    for (let i = from; i < from + size; i++) sum += (samples[i] as number) ** 2;
    const atMs = (from * 1000) / rate;
    if (Math.sqrt(sum / size) < minRms) {
      out.push({ atMs, hz: undefined });
      continue;
    }
    const powers = candidates.map((hz) => powerAt(samples, hz, rate, from, from + size));
    const total = powers.reduce((a, b) => a + b, 0);
    const best = powers.indexOf(Math.max(...powers));
    const power = powers[best] as number;
    // A sine of amplitude a has Goertzel power a²/4 at its frequency and mean square a²/2.
    const share = (2 * power) / (sum / size);
    out.push({
      atMs,
      hz: total > 0 && power / total >= dominance && share >= energyShare ? candidates[best] : undefined,
    });
  }
  return out;
}

export interface ToneRun {
  hz: number;
  startMs: number;
  /** Windows in the run. */
  windows: number;
}

/** Consecutive windows of the same tone, runs shorter than `minWindows` left out (transitions, glitches). */
export function toneRuns(windows: readonly ToneWindow[], minWindows = 2): ToneRun[] {
  const runs: ToneRun[] = [];
  let current: ToneRun | undefined;
  for (const w of windows) {
    if (w.hz !== undefined && current?.hz === w.hz) {
      current.windows++;
      continue;
    }
    if (current && current.windows >= minWindows) runs.push(current);
    current = w.hz === undefined ? undefined : { hz: w.hz, startMs: w.atMs, windows: 1 };
  }
  if (current && current.windows >= minWindows) runs.push(current);
  // Two runs of the same tone split by a glitch are one.
  return runs.filter((run, i) => i === 0 || runs[i - 1]?.hz !== run.hz);
}

/** Int16 samples of tones one after another, each `seconds` long at `amplitude` of full scale, with 10 ms fades. */
export function toneSequence(
  tones: ReadonlyArray<{ hz: number; seconds: number }>,
  rate: number,
  amplitude = 0.3,
): Int16Array {
  const total = tones.reduce((n, t) => n + Math.round(t.seconds * rate), 0);
  const out = new Int16Array(total);
  const fade = Math.round(rate / 100);
  let at = 0;
  for (const { hz, seconds } of tones) {
    const n = Math.round(seconds * rate);
    for (let i = 0; i < n; i++) {
      const edge = Math.min(1, i / fade, (n - 1 - i) / fade);
      out[at + i] = Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * amplitude * edge * 32767);
    }
    at += n;
  }
  return out;
}
