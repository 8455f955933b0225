export { TruePeakLimiter, type TruePeakLimiterOptions } from './limiter.js';
export { LoudnessMeter } from './loudness-meter.js';
export {
  DEFAULT_CEILING_DBTP,
  DEFAULT_TARGET_LUFS,
  gainToTarget,
  Normaliser,
  type NormaliserOptions,
  SILENCE_LUFS,
} from './normaliser.js';
export { amplitudeToDb, TRUE_PEAK_DELAY, TruePeakDetector } from './true-peak.js';
