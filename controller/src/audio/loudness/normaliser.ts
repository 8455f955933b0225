import { ABSOLUTE_GATE_LUFS } from './gating-histogram.js';
import { TruePeakLimiter } from './limiter.js';

/** EBU R128 programme loudness target used for every broadcast asset. */
export const DEFAULT_TARGET_LUFS = -16;
/** Maximum true peak after normalisation. */
export const DEFAULT_CEILING_DBTP = -1;
/** Below the absolute gate a signal counts as silence: there is no loudness to normalise. */
export const SILENCE_LUFS = ABSOLUTE_GATE_LUFS;

/** Linear gain that brings `measuredLufs` to `targetLufs`; 1 for silence (-Infinity), which no gain can fix. */
export function gainToTarget(measuredLufs: number, targetLufs = DEFAULT_TARGET_LUFS): number {
  if (!Number.isFinite(measuredLufs) || measuredLufs < SILENCE_LUFS) return 1;
  return 10 ** ((targetLufs - measuredLufs) / 20);
}

export interface NormaliserOptions {
  /** Linear gain, usually gainToTarget(meter.integratedLufs()) from a first metering pass. */
  gain: number;
  sampleRate?: number;
  ceilingDbtp?: number;
}

/** Second pass of normalisation: applies the gain, then the true-peak limiter (output delayed, same total length). */
export class Normaliser {
  readonly latencySamples: number;
  private readonly gain: number;
  private readonly limiter: TruePeakLimiter;
  /** Reused buffer for the amplified chunk (the limiter copies what it keeps). */
  private scaled = new Float32Array(0);

  constructor(options: NormaliserOptions) {
    if (!(options.gain >= 0 && Number.isFinite(options.gain))) throw new RangeError('gain must be finite and >= 0');
    this.gain = options.gain;
    this.limiter = new TruePeakLimiter({
      sampleRate: options.sampleRate ?? 48000,
      ceilingDbtp: options.ceilingDbtp ?? DEFAULT_CEILING_DBTP,
    });
    this.latencySamples = this.limiter.latencySamples;
  }

  process(chunk: Float32Array): Float32Array {
    if (this.scaled.length < chunk.length) this.scaled = new Float32Array(chunk.length);
    const scaled = this.scaled.subarray(0, chunk.length);
    const gain = this.gain;
    for (let i = 0; i < chunk.length; i++) scaled[i] = (chunk[i] as number) * gain;
    return this.limiter.process(scaled);
  }

  flush(): Float32Array {
    return this.limiter.flush();
  }
}
