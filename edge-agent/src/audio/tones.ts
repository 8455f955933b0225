/**
 * Sounds made in code, so a receiver needs no asset for them: the announcement chime and
 * the warning siren (the preludes an item may ask for when it carries no
 * `preludeSha256`), and the 1 kHz test tone. All 48 kHz mono 16-bit PCM at full volume;
 * the renderer applies the item's gain. The chime and siren are made once and shared:
 * callers must not modify the arrays they get.
 */

export const TONE_SAMPLE_RATE = 48_000;

/** Lengths, which the timing-only renderer assumes too (`PRELUDE_MS`). */
export const CHIME_MS = 1500;
export const SIREN_MS = 4000;

/** The chime's two strikes ("ding" then "dong": G5, then E5 a minor third below). */
export const CHIME_HZ = [784, 659] as const;
const DONG_AT_S = 0.6;

/** The siren sweeps up and down between these, twice (one rise and fall every 2 s). */
export const SIREN_LOW_HZ = 600;
export const SIREN_HIGH_HZ = 1200;
const SIREN_CYCLE_S = 2;

const RAMP = Math.round(0.005 * TONE_SAMPLE_RATE); // 5 ms: no click at a start or an end

/** A linear ramp up over the first RAMP samples and down over the last. */
function edges(i: number, n: number): number {
  return Math.min(1, i / RAMP, (n - 1 - i) / RAMP);
}

/** A struck bell-like tone: quick attack, exponential decay, a quieter octave partial. */
function strike(t: number, hz: number): number {
  if (t < 0) return 0;
  const attack = Math.min(1, t / 0.005);
  const decay = Math.exp(-2.8 * t);
  return attack * decay * (Math.sin(2 * Math.PI * hz * t) + 0.25 * Math.sin(2 * Math.PI * 2 * hz * t));
}

let chimePcm: Int16Array | undefined;
let sirenPcm: Int16Array | undefined;

/** The announcement chime: two falling bell tones ("ding-dong"), 1.5 s, peaking near −6 dBFS. */
export function chime(): Int16Array {
  if (chimePcm) return chimePcm;
  const n = Math.round((CHIME_MS / 1000) * TONE_SAMPLE_RATE);
  const out = new Int16Array(n);
  const [ding, dong] = CHIME_HZ;
  for (let i = 0; i < n; i++) {
    const t = i / TONE_SAMPLE_RATE;
    const v = 0.8 * strike(t, ding) * Math.exp(-4 * Math.max(0, t - DONG_AT_S)) + strike(t - DONG_AT_S, dong);
    out[i] = Math.round(13_000 * v * edges(i, n));
  }
  chimePcm = out;
  return out;
}

/** The warning siren: a rising and falling sweep between 600 and 1200 Hz, 4 s, near −6 dBFS. */
export function siren(): Int16Array {
  if (sirenPcm) return sirenPcm;
  const n = Math.round((SIREN_MS / 1000) * TONE_SAMPLE_RATE);
  const out = new Int16Array(n);
  const mid = (SIREN_LOW_HZ + SIREN_HIGH_HZ) / 2;
  const swing = (SIREN_HIGH_HZ - SIREN_LOW_HZ) / 2;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / TONE_SAMPLE_RATE;
    // Starts at the low end, rises for 1 s, falls for 1 s, twice.
    const hz = mid - swing * Math.cos((2 * Math.PI * t) / SIREN_CYCLE_S);
    phase += (2 * Math.PI * hz) / TONE_SAMPLE_RATE;
    out[i] = Math.round(16_000 * Math.sin(phase) * edges(i, n));
  }
  sirenPcm = out;
  return out;
}

/** The audible test tone (edge-agent test-tone): a steady sine, 1 kHz by default, near −10 dBFS. */
export function testTone(ms = 3000, hz = 1000): Int16Array {
  const n = Math.max(0, Math.round((ms / 1000) * TONE_SAMPLE_RATE));
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(10_000 * Math.sin((2 * Math.PI * hz * i) / TONE_SAMPLE_RATE) * edges(i, n));
  return out;
}
