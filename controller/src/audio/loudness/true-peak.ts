/** Taps per phase of the BS.1770-4 Annex 2 interpolator (4 phases x 12 = 48 taps). */
const TAPS = 12;
const HALF = TAPS / 2;

/**
 * BS.1770-4 Annex 2, 4x over-sampling interpolator, phases 0 and 1 (newest sample first). The filter is symmetric:
 * phase 3 is phase 0 reversed and phase 2 is phase 1 reversed.
 */
const PHASE_0 = [
  0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625, 0.97216796875,
  -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125,
];
const PHASE_1 = [
  -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625, 0.77978515625,
  -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375,
];

type Six = [number, number, number, number, number, number];

/**
 * A phase p and its mirror p' give y = Σ c[t]·h[t] and y' = Σ c[11-t]·h[t]. With u[t] = h[t] + h[11-t],
 * v[t] = h[t] - h[11-t] (t < 6): max(|y|, |y'|) = |Σ e[t]·u[t]| + |Σ o[t]·v[t]|, where e and o are the halved sums
 * and differences of mirrored taps. That needs 24 multiplications for all four phases instead of 48.
 */
function folded(phase: number[], sign: 1 | -1): Six {
  const out: number[] = [];
  for (let t = 0; t < HALF; t++) out.push(((phase[t] as number) + sign * (phase[TAPS - 1 - t] as number)) / 2);
  return out as Six;
}
const EVEN_0 = folded(PHASE_0, 1);
const ODD_0 = folded(PHASE_0, -1);
const EVEN_1 = folded(PHASE_1, 1);
const ODD_1 = folded(PHASE_1, -1);

/**
 * The interpolated values computed when sample n arrives lie between samples n - 6 and n - 5 (the filter's group
 * delay is 5.875 input samples); the limiter needs this to line peaks up with the samples that cause them.
 */
export const TRUE_PEAK_DELAY = 6;

/** 20·log10 of a linear amplitude; -Infinity for 0. */
export function amplitudeToDb(amplitude: number): number {
  return amplitude > 0 ? 20 * Math.log10(amplitude) : Number.NEGATIVE_INFINITY;
}

/**
 * Layout of the detector state: the last 12 samples stored twice (at p and p + 12, so the window is always
 * contiguous: no modulo per tap), then p and the two running peaks.
 */
const POSITION = 2 * TAPS;
const INTERPOLATED_PEAK = POSITION + 1;
const SAMPLE_PEAK = POSITION + 2;

/**
 * Streaming true-peak detector (BS.1770-4 Annex 2): 4x polyphase FIR interpolation of the last 12 samples,
 * keeping the largest magnitude seen. Constant memory; chunk boundaries do not change the result.
 *
 * Performance notes (this loop is most of the meter's and the limiter's cost): the classes of this folder use
 * TypeScript-private fields, not #private ones, and this one keeps its state in one typed array and always fills
 * the output buffer. With #fields, or an optional output, V8 (Node 20) deoptimised the loop thousands of times in
 * a 10-minute run, several times slower.
 */
export class TruePeakDetector {
  private readonly state = new Float64Array(SAMPLE_PEAK + 1);
  /** Per-sample interpolated peaks of the last push, reused between calls. */
  private interpolated = new Float64Array(0);

  /** Largest |sample| or |interpolated value| so far (linear). The true peak is never below the sample peak. */
  get peak(): number {
    return Math.max(this.state[INTERPOLATED_PEAK] as number, this.state[SAMPLE_PEAK] as number);
  }

  /** Largest |sample| so far (linear). */
  get samplePeak(): number {
    return this.state[SAMPLE_PEAK] as number;
  }

  /**
   * Feeds samples. Returns a buffer (reused: valid until the next push) whose entry i, for i < samples.length, is the
   * largest |interpolated value| between samples n - 6 and n - 5, where n is the stream position of samples[i].
   */
  push(samples: Float32Array): Float64Array {
    if (this.interpolated.length < samples.length) this.interpolated = new Float64Array(samples.length);
    const interpolated = this.interpolated;
    // Unrolled, coefficients in locals, no allocation.
    const [e0, e1, e2, e3, e4, e5] = EVEN_0;
    const [o0, o1, o2, o3, o4, o5] = ODD_0;
    const [f0, f1, f2, f3, f4, f5] = EVEN_1;
    const [g0, g1, g2, g3, g4, g5] = ODD_1;
    const h = this.state;
    let p = h[POSITION] as number;
    let interpolatedPeak = h[INTERPOLATED_PEAK] as number;
    let samplePeak = h[SAMPLE_PEAK] as number;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i] as number;
      // Newest sample at p, older ones after it: h[p + t] is the sample t steps back.
      p = p === 0 ? TAPS - 1 : p - 1;
      h[p] = x;
      h[p + TAPS] = x;
      const magnitude = Math.abs(x);
      if (magnitude > samplePeak) samplePeak = magnitude;
      const h1 = h[p + 1] as number;
      const h2 = h[p + 2] as number;
      const h3 = h[p + 3] as number;
      const h4 = h[p + 4] as number;
      const h5 = h[p + 5] as number;
      const h6 = h[p + 6] as number;
      const h7 = h[p + 7] as number;
      const h8 = h[p + 8] as number;
      const h9 = h[p + 9] as number;
      const h10 = h[p + 10] as number;
      const h11 = h[p + 11] as number;
      const u0 = x + h11;
      const u1 = h1 + h10;
      const u2 = h2 + h9;
      const u3 = h3 + h8;
      const u4 = h4 + h7;
      const u5 = h5 + h6;
      const v0 = x - h11;
      const v1 = h1 - h10;
      const v2 = h2 - h9;
      const v3 = h3 - h8;
      const v4 = h4 - h7;
      const v5 = h5 - h6;
      const outer =
        Math.abs(e0 * u0 + e1 * u1 + e2 * u2 + e3 * u3 + e4 * u4 + e5 * u5) +
        Math.abs(o0 * v0 + o1 * v1 + o2 * v2 + o3 * v3 + o4 * v4 + o5 * v5);
      const inner =
        Math.abs(f0 * u0 + f1 * u1 + f2 * u2 + f3 * u3 + f4 * u4 + f5 * u5) +
        Math.abs(g0 * v0 + g1 * v1 + g2 * v2 + g3 * v3 + g4 * v4 + g5 * v5);
      // Comparisons against the running peaks are almost always false, so they predict well; outer vs inner does not
      // (Math.max branches too), hence the branch-free max(a, b) = (a + b + |a - b|) / 2, exact to an ulp.
      interpolated[i] = 0.5 * (outer + inner + Math.abs(outer - inner));
      if (outer > interpolatedPeak) interpolatedPeak = outer;
      if (inner > interpolatedPeak) interpolatedPeak = inner;
    }
    h[POSITION] = p;
    h[INTERPOLATED_PEAK] = interpolatedPeak;
    h[SAMPLE_PEAK] = samplePeak;
    return interpolated;
  }
}
