/**
 * Volume 0..100 as gain: 100 is full scale, each step below takes away 0.4 dB (so 50 is
 * −20 dB, 25 is −30 dB), 0 is silence. A dB-linear curve sounds even to the ear, where a
 * linear one crowds all the change into the top of the dial.
 */
export function gainOf(volume: number): number {
  if (volume <= 0) return 0;
  return 10 ** ((-(100 - Math.min(100, volume)) * 0.4) / 20);
}

/** Applies the gain (and the master volume) with clipping protection. */
export function applyGain(pcm: Int16Array, gain: number): Int16Array {
  if (gain === 1) return pcm;
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++)
    out[i] = Math.max(-32768, Math.min(32767, Math.round((pcm[i] as number) * gain)));
  return out;
}
