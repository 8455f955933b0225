import type { RiskLevel } from '../vocabulary/risk-levels.js';

/**
 * The system's own sounds, made in code: the announcement chime, the warning siren of each
 * disaster risk level (Decision 18/2021/QĐ-TTg, see RISK_LEVEL_INFO) and the test tone. One
 * definition, so the controller can store them as audio assets and a receiver's built-in
 * fallback (a prelude with no `preludeSha256`) sounds the same.
 *
 * Pure synthesis, no dependencies: 48 kHz mono Float32Array samples, full scale ±1. Every
 * tone peaks at TONE_PEAK (−6 dBFS), so they normalise alike, and every sounding stretch
 * starts and ends with a 5 ms ramp, so nothing clicks. Each call makes a new array.
 *
 * The sirens rise in urgency with the level; each lasts a fixed SIREN_MS. A wail is a
 * raised-cosine sweep that starts at 600 Hz, rises to 1200 Hz and falls back.
 *
 * | level | colour                           | pattern                                                            | length |
 * |-------|----------------------------------|--------------------------------------------------------------------|--------|
 * | 1     | light blue (xanh dương nhạt)     | one slow wail, 600→1200→600 Hz over 5 s                            | 5 s    |
 * | 2     | light yellow (vàng nhạt)         | two slow wails of 2.5 s, 1 s of silence between                    | 6 s    |
 * | 3     | orange (da cam)                  | steady wail, one 2 s cycle after another, twice (the default siren) | 4 s    |
 * | 4     | red (đỏ)                         | fast "whoop": 0.5 s rising glides 600→1500 Hz, 0.25 s apart, ×8     | 6 s    |
 * | 5     | purple (tím)                     | rapid hi-lo: 1200 Hz and 800 Hz alternating every 125 ms            | 6 s    |
 *
 * Level 3 is the receiver's siren when no level is known (DEFAULT_SIREN_LEVEL).
 */

export const TONE_SAMPLE_RATE = 48_000;

/** The peak of every tone: half of full scale, −6.02 dBFS. */
export const TONE_PEAK = 0.5;

/** The chime's length. */
export const CHIME_MS = 1500;
/** The chime's two strikes ("ding" then "dong": G5, then E5 a minor third below). */
export const CHIME_HZ = [784, 659] as const;
const DONG_AT_S = 0.6;

/** The band of the wailing sirens (levels 1–3). */
export const SIREN_LOW_HZ = 600;
export const SIREN_HIGH_HZ = 1200;

/** The siren a receiver sounds when an item asks for one and no risk level is known. */
export const DEFAULT_SIREN_LEVEL: RiskLevel = 3;

/** Each level's siren length (see the table above); the default siren's is 4 s. */
export const SIREN_MS: Readonly<Record<RiskLevel, number>> = { 1: 5000, 2: 6000, 3: 4000, 4: 6000, 5: 6000 };

/** The tones the controller stores as assets, by name. */
export const TONE_NAMES = ['chime', 'siren-1', 'siren-2', 'siren-3', 'siren-4', 'siren-5'] as const;
export type ToneName = (typeof TONE_NAMES)[number];

const RATE = TONE_SAMPLE_RATE;
const RAMP = Math.round(0.005 * RATE); // 5 ms: no click at a start or an end
const TAU = 2 * Math.PI;

const samples = (ms: number) => Math.max(0, Math.round((ms / 1000) * RATE));

/** A linear ramp up over the first RAMP samples of a stretch of n and down over the last. */
function edges(i: number, n: number): number {
  return Math.min(1, i / RAMP, (n - 1 - i) / RAMP);
}

/** A sounding stretch of a tone: from and to in seconds, its pitch at t seconds into it. */
interface Burst {
  from: number;
  to: number;
  hz: (t: number) => number;
}

/** Sine bursts at TONE_PEAK, phase-continuous within each (so a pitch step does not click). */
function render(ms: number, bursts: readonly Burst[]): Float32Array {
  const n = samples(ms);
  const out = new Float32Array(n);
  for (const burst of bursts) {
    const start = Math.round(burst.from * RATE);
    const end = Math.min(n, Math.round(burst.to * RATE));
    let phase = 0;
    for (let i = start; i < end; i++) {
      phase = (phase + (TAU * burst.hz((i - start) / RATE)) / RATE) % TAU;
      out[i] = TONE_PEAK * Math.sin(phase) * edges(i - start, end - start);
    }
  }
  return out;
}

/** A wail: starts low, rises to the top at half the cycle, falls back, and again. */
const wail =
  (cycleS: number) =>
  (t: number): number =>
    (SIREN_LOW_HZ + SIREN_HIGH_HZ) / 2 - ((SIREN_HIGH_HZ - SIREN_LOW_HZ) / 2) * Math.cos((TAU * t) / cycleS);

const WHOOP = { fromHz: 600, toHz: 1500, s: 0.5, everyS: 0.75, count: 8 };
const HI_LO = { hiHz: 1200, loHz: 800, eachS: 0.125 };

const SIRENS: Readonly<Record<RiskLevel, readonly Burst[]>> = {
  1: [{ from: 0, to: 5, hz: wail(5) }],
  2: [
    { from: 0, to: 2.5, hz: wail(2.5) },
    { from: 3.5, to: 6, hz: wail(2.5) },
  ],
  3: [{ from: 0, to: 4, hz: wail(2) }],
  4: Array.from({ length: WHOOP.count }, (_, k) => ({
    from: k * WHOOP.everyS,
    to: k * WHOOP.everyS + WHOOP.s,
    // An exponential glide: equal steps in pitch.
    hz: (t: number) => WHOOP.fromHz * (WHOOP.toHz / WHOOP.fromHz) ** (t / WHOOP.s),
  })),
  5: [{ from: 0, to: 6, hz: (t) => (Math.floor(t / HI_LO.eachS) % 2 === 0 ? HI_LO.hiHz : HI_LO.loHz) }],
};

/** A struck bell-like tone: quick attack, exponential decay, a quieter octave partial. */
function strike(t: number, hz: number): number {
  if (t < 0) return 0;
  const attack = Math.min(1, t / 0.005);
  const decay = Math.exp(-2.8 * t);
  return attack * decay * (Math.sin(TAU * hz * t) + 0.25 * Math.sin(TAU * 2 * hz * t));
}

/** The announcement chime: two falling bell tones ("ding-dong"), 1.5 s, peaking at TONE_PEAK. */
export function chime(): Float32Array {
  const n = samples(CHIME_MS);
  const raw = new Float64Array(n);
  const [ding, dong] = CHIME_HZ;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const v = 0.8 * strike(t, ding) * Math.exp(-4 * Math.max(0, t - DONG_AT_S)) + strike(t - DONG_AT_S, dong);
    raw[i] = v * edges(i, n);
    peak = Math.max(peak, Math.abs(raw[i] as number));
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((raw[i] as number) * TONE_PEAK) / peak;
  return out;
}

/** The warning siren of a risk level (the table above), SIREN_MS[level] long, peaking at TONE_PEAK. */
export function siren(level: RiskLevel = DEFAULT_SIREN_LEVEL): Float32Array {
  const bursts = SIRENS[level];
  if (!bursts) throw new RangeError(`no siren for risk level ${String(level)}`);
  return render(SIREN_MS[level], bursts);
}

/** The audible test tone: a steady sine, 1 kHz and 3 s by default, peaking at TONE_PEAK. */
export function testTone(ms = 3000, hz = 1000): Float32Array {
  return render(ms, [{ from: 0, to: samples(ms) / RATE, hz: () => hz }]);
}

/** The tone an item's prelude sounds: `chime`, or the siren of a level (DEFAULT_SIREN_LEVEL if none is known). */
export function toneName(prelude: 'chime' | 'siren', level: RiskLevel = DEFAULT_SIREN_LEVEL): ToneName {
  return prelude === 'chime' ? 'chime' : `siren-${level}`;
}

/** A tone's samples, by name. */
export function toneSamples(name: ToneName): Float32Array {
  if (!(TONE_NAMES as readonly string[]).includes(name)) throw new RangeError(`no tone named ${String(name)}`);
  if (name === 'chime') return chime();
  return siren(Number(name.slice('siren-'.length)) as RiskLevel);
}
