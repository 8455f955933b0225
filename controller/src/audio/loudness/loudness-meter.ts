// Written by hand rather than taken from npm: the only npm meter, ebur128-wasm, wants the whole signal in one
// Float32Array, and our assets can be an hour long. This one streams in constant memory (tests compare the two).
import { GatingHistogram } from './gating-histogram.js';
import { KWeighting } from './k-weighting.js';
import { amplitudeToDb, TruePeakDetector } from './true-peak.js';

/** A gating block is four 100 ms hops (400 ms, 75 % overlap). */
const HOPS_PER_BLOCK = 4;

/**
 * EBU R128 / ITU-R BS.1770-4 meter for mono audio pushed in chunks of any length: integrated loudness (absolute and
 * relative gating), true peak (4x over-sampling) and sample peak. Memory stays constant however long the stream.
 */
export class LoudnessMeter {
  private readonly sampleRate: number;
  /** Samples per 100 ms hop, rounded as libebur128 does. */
  private readonly hopLength: number;
  private readonly kWeighting: KWeighting;
  private readonly truePeak = new TruePeakDetector();
  private readonly histogram = new GatingHistogram();
  /** Sums of squared K-weighted samples of the last four complete hops (a ring). */
  private readonly hopEnergies = new Float64Array(HOPS_PER_BLOCK);
  private hopsDone = 0;
  private hopFill = 0;
  private hopEnergy = 0;
  private sampleCount = 0;

  constructor(sampleRate = 48000) {
    if (!(sampleRate >= 8000 && sampleRate <= 384000)) throw new RangeError(`unsupported sample rate ${sampleRate}`);
    this.sampleRate = sampleRate;
    this.hopLength = Math.floor((sampleRate + 5) / 10);
    this.kWeighting = new KWeighting(sampleRate);
  }

  /** Samples pushed so far. */
  get samples(): number {
    return this.sampleCount;
  }

  durationMs(): number {
    return (this.sampleCount * 1000) / this.sampleRate;
  }

  push(samples: Float32Array): void {
    this.sampleCount += samples.length;
    this.truePeak.push(samples);
    let offset = 0;
    while (offset < samples.length) {
      const end = Math.min(samples.length, offset + this.hopLength - this.hopFill);
      this.hopEnergy = this.kWeighting.accumulateSquares(samples, offset, end, this.hopEnergy);
      this.hopFill += end - offset;
      offset = end;
      if (this.hopFill === this.hopLength) this.endHop();
    }
  }

  /**
   * Integrated loudness (LUFS) per BS.1770-4 with absolute (-70 LUFS) and relative (-10 LU) gating;
   * -Infinity when nothing passes the absolute gate (silence, or under 400 ms of audio).
   */
  integratedLufs(): number {
    return this.histogram.integratedLufs();
  }

  /** True peak (dBTP), 4x over-sampled as in BS.1770-4 Annex 2; -Infinity for digital silence. */
  truePeakDbtp(): number {
    return amplitudeToDb(this.truePeak.peak);
  }

  /** Largest |sample| (dBFS); -Infinity for digital silence. */
  samplePeakDbfs(): number {
    return amplitudeToDb(this.truePeak.samplePeak);
  }

  private endHop(): void {
    this.hopEnergies[this.hopsDone % HOPS_PER_BLOCK] = this.hopEnergy;
    this.hopsDone++;
    this.hopEnergy = 0;
    this.hopFill = 0;
    if (this.hopsDone < HOPS_PER_BLOCK) return;
    let sum = 0;
    for (const energy of this.hopEnergies) sum += energy;
    this.histogram.add(sum / (HOPS_PER_BLOCK * this.hopLength));
  }
}
