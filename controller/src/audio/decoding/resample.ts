import libsamplerate from '@alexanderolsen/libsamplerate-js';

// A CommonJS (UMD) module: Node's ESM import sees only its default export.
const { ConverterType, create } = libsamplerate;

/** Everything is aired at Opus's own rate. */
export const PIPELINE_RATE = 48_000;

/**
 * Streams mono PCM of any rate to 48 kHz with libsamplerate (wasm): band-limited sinc
 * interpolation, state kept across chunks so chunk edges leave no mark.
 */
export async function resamplerTo48k(fromRate: number): Promise<(chunk: Float32Array) => Float32Array> {
  if (fromRate === PIPELINE_RATE) return (chunk) => chunk;
  const src = await create(1, fromRate, PIPELINE_RATE, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY });
  return (chunk) => (chunk.length === 0 ? chunk : src.full(chunk).slice());
}

/** Several channels' samples as one (their mean). */
export function downmix(channels: Float32Array[], samples: number): Float32Array {
  const [first] = channels;
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first.length === samples ? first : first.subarray(0, samples);
  const out = new Float32Array(samples);
  for (const channel of channels) for (let i = 0; i < samples; i++) out[i] = (out[i] as number) + (channel[i] ?? 0);
  for (let i = 0; i < samples; i++) out[i] = (out[i] as number) / channels.length;
  return out;
}
