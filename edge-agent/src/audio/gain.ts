/**
 * Volume and level handling.
 *
 * The volume dial (an item's `volume`, and the receiver's master volume set by
 * `device.volume`) runs 0..100 and is dB-linear: 100 is full scale (0 dB) and each step
 * below takes away 0.4 dB, so 75 is −10 dB, 50 is −20 dB, 25 is −30 dB, 1 is −39.6 dB, and
 * 0 is silence. Equal steps of the dial sound like equal changes of loudness; a linear
 * dial would crowd all the audible change into its top few steps. The item's and the
 * master volume multiply (their dB add): item 50 at master 80 plays at −28 dB.
 *
 * Clipping protection: gain never exceeds 0 dB, but decoded Opus can overshoot full scale
 * a little, and a loud recording sits near it. Every sample passes a soft limiter that is
 * exactly linear up to −1 dBFS and above that bends smoothly (tanh) towards full scale, so
 * peaks are rounded off instead of square-clipped, and nothing ever wraps around.
 */

/** dB taken away per volume step below 100. */
export const DB_PER_STEP = 0.4;

/** Where the limiter starts to bend: −1 dBFS. */
export const LIMITER_KNEE = 10 ** (-1 / 20);

/** The gain of a volume setting in dB (−Infinity for 0). */
export function volumeDb(volume: number): number {
  if (!(volume > 0)) return Number.NEGATIVE_INFINITY;
  return -(100 - Math.min(100, volume)) * DB_PER_STEP;
}

/** The gain of a volume setting as an amplitude factor, 0..1. */
export function gainOf(volume: number): number {
  if (!(volume > 0)) return 0;
  return 10 ** (volumeDb(volume) / 20);
}

/** The soft limiter on one sample in −∞..∞ (full scale ±1): identity below the knee, never beyond ±1. */
export function limit(x: number): number {
  const magnitude = Math.abs(x);
  if (magnitude <= LIMITER_KNEE) return x;
  const room = 1 - LIMITER_KNEE;
  return Math.sign(x) * (LIMITER_KNEE + room * Math.tanh((magnitude - LIMITER_KNEE) / room));
}

function toInt16(x: number): number {
  return Math.round(limit(x) * 32767);
}

/** Decoded float samples (full scale ±1) to 16-bit PCM at a gain, through the limiter. */
export function floatToPcm16(samples: Float32Array, gain: number): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = toInt16((samples[i] as number) * gain);
  return out;
}

/** 16-bit PCM at a gain, through the limiter (a new array). */
export function applyGain(pcm: Int16Array, gain: number): Int16Array {
  const out = new Int16Array(pcm.length);
  const scale = gain / 32768;
  for (let i = 0; i < pcm.length; i++) out[i] = toInt16((pcm[i] as number) * scale);
  return out;
}
