/** One second-order section, normalised so that a0 = 1. */
interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * BS.1770-4 tabulates the K-weighting coefficients for 48 kHz only; like libebur128 we derive both stages from their
 * analogue prototypes (bilinear transform with pre-warping), so 16, 22.05 and 44.1 kHz input is weighted the same way.
 */
function preFilterShelf(sampleRate: number): Biquad {
  const f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  const q = 0.7071752369554196;
  const k = Math.tan((Math.PI * f0) / sampleRate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  const a0 = 1 + k / q + k * k;
  return {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
}

/** The "revised low-frequency B" (RLB) high-pass. libebur128 keeps its numerator at (1, -2, 1), as we do. */
function rlbHighPass(sampleRate: number): Biquad {
  const f0 = 38.13547087602444;
  const q = 0.5003270373238773;
  const k = Math.tan((Math.PI * f0) / sampleRate);
  const a0 = 1 + k / q + k * k;
  return { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / q + k * k) / a0 };
}

/** Streaming K-weighting filter (both stages, transposed direct form II in double precision). */
export class KWeighting {
  private readonly shelf: Biquad;
  private readonly highPass: Biquad;
  // Filter state lives in plain fields and is copied into locals for the sample loop (faster than field access).
  private s1 = 0;
  private s2 = 0;
  private h1 = 0;
  private h2 = 0;

  constructor(sampleRate: number) {
    this.shelf = preFilterShelf(sampleRate);
    this.highPass = rlbHighPass(sampleRate);
  }

  /**
   * Filters samples[from, to) and returns `sum` plus the sum of the squared weighted samples. The running sum is
   * passed in so that the additions happen in sample order whatever the chunking (results stay bit-identical).
   */
  accumulateSquares(samples: Float32Array, from: number, to: number, sum: number): number {
    const { b0, b1, b2, a1, a2 } = this.shelf;
    const { b0: c0, b1: c1, b2: c2, a1: d1, a2: d2 } = this.highPass;
    let s1 = this.s1;
    let s2 = this.s2;
    let h1 = this.h1;
    let h2 = this.h2;
    let total = sum;
    for (let i = from; i < to; i++) {
      const x = samples[i] as number;
      const shelved = b0 * x + s1;
      s1 = b1 * x - a1 * shelved + s2;
      s2 = b2 * x - a2 * shelved;
      const weighted = c0 * shelved + h1;
      h1 = c1 * shelved - d1 * weighted + h2;
      h2 = c2 * shelved - d2 * weighted;
      total += weighted * weighted;
    }
    this.s1 = s1;
    this.s2 = s2;
    this.h1 = h1;
    this.h2 = h2;
    return total;
  }
}
