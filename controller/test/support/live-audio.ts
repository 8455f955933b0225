import OpusScript from 'opusscript';

/** A sine tone at `rate`, `channels` interleaved (the same signal in each). */
export function sine(hz: number, seconds: number, rate = 48_000, amplitude = 0.5, channels = 1): Float32Array {
  const frames = Math.round(rate * seconds);
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++)
    for (let c = 0; c < channels; c++) out[i * channels + c] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Decodes raw Opus frames (48 kHz mono) with libopus's wasm build, independent of the native encoder. */
export function decodeOpusFrames(frames: Uint8Array[]): Float32Array {
  const decoder = new OpusScript(48000, 1, OpusScript.Application.AUDIO);
  try {
    const parts = frames.map((f) => {
      const pcm = decoder.decode(Buffer.from(f));
      const out = new Float32Array(pcm.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
      return out;
    });
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  } finally {
    decoder.delete();
  }
}

/** The frequency of a steady tone by its rising zero crossings, and its RMS level. */
export function toneOf(samples: Float32Array, rate = 48_000): { hz: number; rms: number } {
  let crossings = 0;
  let first = -1;
  let last = -1;
  let energy = 0;
  for (let i = 1; i < samples.length; i++) {
    energy += (samples[i] as number) ** 2;
    if ((samples[i - 1] as number) < 0 && (samples[i] as number) >= 0) {
      if (first < 0) first = i;
      else crossings++;
      last = i;
    }
  }
  return { hz: last > first ? (crossings * rate) / (last - first) : 0, rms: Math.sqrt(energy / samples.length) };
}
