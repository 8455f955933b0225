import { TRUE_PEAK_DELAY, TruePeakDetector } from './true-peak.js';

export interface TruePeakLimiterOptions {
  sampleRate?: number;
  /** Default -1 dBTP (EBU R128). */
  ceilingDbtp?: number;
  /** Default 5 ms; at least 1 ms. This is also the latency. */
  lookaheadMs?: number;
  /** Time constant of the exponential gain recovery. Default 80 ms. */
  releaseMs?: number;
}

/**
 * The limiter aims this far below the ceiling: the output's interpolated peaks are those of the input scaled by a
 * gain that is smooth but not constant over the interpolator's 12 taps, and other meters interpolate differently.
 */
const SAFETY_MARGIN_DB = 0.2;
/**
 * A released gain this close to its target is taken as there (a step of -120 dB, then averaged): otherwise the
 * exponential would approach 1 forever and the limiter never return to its idle fast path.
 */
const RELEASE_SNAP = 1e-6;

/**
 * Look-ahead true-peak limiter for mono audio in chunks of any length. For each input sample it knows the largest
 * true (4x interpolated) peak next to it and the gain g = ceiling / peak that peak needs. The applied gain is the
 * minimum of g over the look-ahead window, with an exponential release, then averaged over the same window: a
 * linear ramp (no clicks) that is fully down when the peak sample leaves, because every gain averaged for it is
 * already at most its g. The output stream is the input stream, limited, sample for sample; each sample comes out
 * `latencySamples` input samples after it went in, and flush() returns the last ones.
 */
export class TruePeakLimiter {
  readonly latencySamples: number;
  private readonly threshold: number;
  private readonly releaseCoefficient: number;
  /** Length of the minimum and of the average windows (the look-ahead less the detector's own delay). */
  private readonly window: number;
  private detector = new TruePeakDetector();
  /** Delay line of the input; its length is a power of two so the index is a mask. */
  private readonly delay: Float64Array;
  private readonly delayMask: number;
  /** Monotonic deque (a ring) of the wanted gains and their sample indices: the minimum is at its head. */
  private readonly dequeGain: Float64Array;
  private readonly dequeIndex: Float64Array;
  private dequeHead = 0;
  private dequeSize = 0;
  /** The window of released gains being averaged, and their running sum. */
  private readonly averaged: Float64Array;
  private averagedPosition = 0;
  private averagedSum = 0;
  private envelope = 1;
  private previousInterpolated = 0;
  /** Samples taken in since the stream started (flush's padding included). */
  private received = 0;
  /** True while every gain in both windows is exactly 1 (nothing to limit): the fast path. */
  private idle = true;
  /** Consecutive samples whose released gain was exactly 1. */
  private calm = 0;

  constructor(options: TruePeakLimiterOptions = {}) {
    const sampleRate = options.sampleRate ?? 48000;
    const ceilingDbtp = options.ceilingDbtp ?? -1;
    const lookaheadMs = options.lookaheadMs ?? 5;
    const releaseMs = options.releaseMs ?? 80;
    if (!(sampleRate >= 8000)) throw new RangeError(`unsupported sample rate ${sampleRate}`);
    if (!(lookaheadMs >= 1)) throw new RangeError('lookaheadMs must be at least 1 ms');
    if (!(releaseMs > 0)) throw new RangeError('releaseMs must be positive');
    this.latencySamples = Math.round((lookaheadMs * sampleRate) / 1000);
    // The detector reports a peak TRUE_PEAK_DELAY samples late, and the last window sample is the current one.
    this.window = this.latencySamples - TRUE_PEAK_DELAY + 1;
    this.threshold = 10 ** ((ceilingDbtp - SAFETY_MARGIN_DB) / 20);
    this.releaseCoefficient = Math.exp(-1000 / (releaseMs * sampleRate));
    const delayLength = 2 ** Math.ceil(Math.log2(this.latencySamples + 1));
    this.delay = new Float64Array(delayLength);
    this.delayMask = delayLength - 1;
    this.dequeGain = new Float64Array(this.window + 1);
    this.dequeIndex = new Float64Array(this.window + 1);
    this.averaged = new Float64Array(this.window);
    this.reset();
  }

  /** Limits a chunk; returns the output that is ready: the samples that went in up to latencySamples ago. */
  process(chunk: Float32Array): Float32Array {
    const count = chunk.length;
    const ready = Math.max(0, this.received + count - Math.max(this.received, this.latencySamples));
    const out = new Float32Array(ready);
    const interpolated = this.detector.push(chunk);

    const delay = this.delay;
    const mask = this.delayMask;
    const window = this.window;
    const inverseWindow = 1 / window;
    const threshold = this.threshold;
    const release = this.releaseCoefficient;
    const dequeGain = this.dequeGain;
    const dequeIndex = this.dequeIndex;
    const capacity = dequeGain.length;
    const averaged = this.averaged;
    let head = this.dequeHead;
    let size = this.dequeSize;
    let position = this.averagedPosition;
    let sum = this.averagedSum;
    let envelope = this.envelope;
    let previous = this.previousInterpolated;
    let n = this.received;
    let idle = this.idle;
    let calm = this.calm;
    let written = 0;

    for (let i = 0; i < count; i++, n++) {
      const x = chunk[i] as number;
      delay[n & mask] = x;
      // The sample s judged now is flanked by the interpolated intervals (s - 1, s) and (s, s + 1), the latter just
      // computed; counting both covers every interpolated point (twice) with the samples around it. (Before the
      // stream, s < 0, the delay line holds silence.)
      const s = n - TRUE_PEAK_DELAY;
      const between = interpolated[i] as number;
      const magnitude = Math.abs(delay[s & mask] as number);
      // Usually nothing is over the threshold: three well-predicted comparisons, no Math.max (which branches).
      const over = magnitude > threshold || previous > threshold || between > threshold;
      const peak = over ? Math.max(magnitude, previous, between) : 0;
      previous = between;
      if (idle) {
        // Every gain in the windows is exactly 1: the output is the delayed input, no bookkeeping needed.
        if (!over) {
          if (s >= window - 1) out[written++] = delay[(s - window + 1) & mask] as number;
          continue;
        }
        idle = false;
        size = 0;
      }
      const wanted = over ? threshold / peak : 1;
      // Sliding minimum: drop queued gains that can never again be the minimum, queue this one, expire the oldest.
      while (size > 0) {
        const tail = head + size - 1;
        if ((dequeGain[tail >= capacity ? tail - capacity : tail] as number) < wanted) break;
        size--;
      }
      const slot = head + size >= capacity ? head + size - capacity : head + size;
      dequeGain[slot] = wanted;
      dequeIndex[slot] = s;
      size++;
      if ((dequeIndex[head] as number) <= s - window) {
        head = head + 1 === capacity ? 0 : head + 1;
        size--;
      }
      const minimum = dequeGain[head] as number;
      envelope = minimum < envelope ? minimum : minimum - (minimum - envelope) * release;
      if (minimum - envelope < RELEASE_SNAP) envelope = minimum;
      // Moving average of the released gain; re-summed once per lap so rounding cannot drift over hours.
      sum += envelope - (averaged[position] as number);
      averaged[position] = envelope;
      if (++position === window) {
        position = 0;
        sum = 0;
        for (let k = 0; k < window; k++) sum += averaged[k] as number;
      }
      if (s >= window - 1) out[written++] = (delay[(s - window + 1) & mask] as number) * sum * inverseWindow;
      calm = envelope === 1 ? calm + 1 : 0;
      if (calm >= window) {
        idle = true; // the averaged window now holds only ones
        sum = window;
        calm = 0;
      }
    }

    this.dequeHead = head;
    this.dequeSize = size;
    this.averagedPosition = position;
    this.averagedSum = sum;
    this.envelope = envelope;
    this.previousInterpolated = previous;
    this.received = n;
    this.idle = idle;
    this.calm = calm;
    return out;
  }

  /** Ends the stream: returns the delayed tail (total output = total input) and resets for a new stream. */
  flush(): Float32Array {
    const tail = this.process(new Float32Array(this.latencySamples));
    this.reset();
    return tail;
  }

  private reset(): void {
    this.detector = new TruePeakDetector();
    this.delay.fill(0);
    this.dequeHead = 0;
    this.dequeSize = 0;
    this.averaged.fill(1);
    this.averagedPosition = 0;
    this.averagedSum = this.window;
    this.envelope = 1;
    this.previousInterpolated = 0;
    this.received = 0;
    this.idle = true;
    this.calm = 0;
  }
}
