import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

/**
 * Percentiles of latencies (ms) through an HDR histogram at microsecond resolution and 3
 * significant digits, the same for every figure the simulator and benchmarks report.
 * Negative values (a receiver that started early) are kept apart by the caller.
 */
export function summarise(samplesMs: readonly number[]): LatencySummary | null {
  if (samplesMs.length === 0) return null;
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 24 * 3600 * 1e6,
    numberOfSignificantValueDigits: 3,
  });
  for (const ms of samplesMs) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  const at = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  const summary = {
    count: samplesMs.length,
    p50_ms: at(50),
    p95_ms: at(95),
    p99_ms: at(99),
    max_ms: histogram.maxValue / 1000,
    mean_ms: Number((histogram.mean / 1000).toFixed(3)),
  };
  histogram.destroy();
  return summary;
}
