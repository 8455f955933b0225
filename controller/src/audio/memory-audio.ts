import type { OpenedAudio } from './decoding/decode-file.js';

/** PCM made in code (tones) as a source for the pipeline, like a decoded file. */
export function audioFromSamples(samples: Float32Array): OpenedAudio {
  return {
    format: 'wav',
    bytes: samples.byteLength,
    decoder: 'npm',
    statedMs: samples.length / 48,
    async *decode() {
      yield samples;
    },
  };
}
