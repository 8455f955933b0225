/** Below this RMS level (dBFS, 1.0 = full scale) a stream counts as silent. */
export const SILENCE_DBFS = -50;

/** Level is judged over 100 ms blocks at 48 kHz: long enough to ignore a single quiet cycle. */
const BLOCK_SAMPLES = 4800;
const RATE = 48_000;

/** Why a relayed stream is dead air. */
export type DeadAirReason = 'no_data' | 'silence' | 'ended';

export type AirCheck = { dead: false } | { dead: true; reason: DeadAirReason; detail: string };

/**
 * Decides when a relayed stream has become dead air: no bytes for `deadAirMs`, or only
 * sound below SILENCE_DBFS for `deadAirMs`, or the source gone (ffmpeg exited). Pure: the
 * caller feeds the samples with the time they arrived and asks with the time it is, so
 * the rule is tested without a clock or a stream. Counting starts when the detector is
 * made, so a stream that never sends anything is dead air after `deadAirMs` too.
 */
export class DeadAirDetector {
  readonly #deadAirMs: number;
  readonly #silenceDbfs: number;
  readonly #threshold: number;
  #lastDataAt: number;
  #lastSoundAt: number;
  #ended: { at: number; detail: string } | undefined;
  #sumSquares = 0;
  #blockFill = 0;
  #soundSamples = 0;

  constructor(options: { deadAirMs: number; silenceDbfs?: number }, startedAt: number) {
    if (!(options.deadAirMs > 0)) throw new Error(`deadAirMs must be positive, not ${options.deadAirMs}`);
    this.#deadAirMs = options.deadAirMs;
    this.#silenceDbfs = options.silenceDbfs ?? SILENCE_DBFS;
    // Compared with the mean square, so no square root per block.
    this.#threshold = 10 ** (this.#silenceDbfs / 10);
    this.#lastDataAt = startedAt;
    this.#lastSoundAt = startedAt;
  }

  /** 48 kHz mono samples that arrived at `at` (ms). */
  feed(samples: Float32Array, at: number): void {
    if (samples.length === 0) return;
    this.#lastDataAt = Math.max(this.#lastDataAt, at);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as number;
      this.#sumSquares += s * s;
      if (++this.#blockFill === BLOCK_SAMPLES) {
        if (this.#sumSquares / BLOCK_SAMPLES >= this.#threshold) {
          this.#lastSoundAt = Math.max(this.#lastSoundAt, at);
          this.#soundSamples += BLOCK_SAMPLES;
        }
        this.#sumSquares = 0;
        this.#blockFill = 0;
      }
    }
  }

  /** The source is gone (ffmpeg exited, the connection failed): dead at once. */
  end(at: number, detail: string): void {
    this.#ended ??= { at, detail };
  }

  /** Audio above the silence level received so far, in ms (a retry needs some before it is trusted). */
  get soundMs(): number {
    return (this.#soundSamples * 1000) / RATE;
  }

  check(now: number): AirCheck {
    if (this.#ended) return { dead: true, reason: 'ended', detail: this.#ended.detail };
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const quietFor = now - this.#lastDataAt;
    if (quietFor >= this.#deadAirMs)
      return { dead: true, reason: 'no_data', detail: `no data for ${seconds(quietFor)}` };
    const silentFor = now - this.#lastSoundAt;
    if (silentFor >= this.#deadAirMs)
      return { dead: true, reason: 'silence', detail: `below ${this.#silenceDbfs} dBFS for ${seconds(silentFor)}` };
    return { dead: false };
  }
}
