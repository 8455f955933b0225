import { expect } from 'vitest';
import type { LiveRecord } from '../../src/fleet/live-record.js';
import { summarise } from '../../src/metrics/latency.js';
import { analyseLiveSession, firstFrame } from '../../src/metrics/live-analysis.js';

/** The in-step target between receivers (a frame). */
export const SYNC_MS = 20;
/** The agent keeps a clock sync whose error bound is at most this (ClockSync's goodErrorMs). */
const GOOD_SYNC_MS = 25;

/**
 * The receivers played a live session in step: per-frame skew (latest − earliest true
 * heard time of a frame) p95 and the spread of first frames heard within SYNC_MS — or,
 * when the receivers' clock syncs are themselves further apart than that (two systems
 * syncing on two busy cores: every answer queued), within 5 ms beyond their spread —,
 * each clock sync good to GOOD_SYNC_MS, and each receiver's own playout within 10 ms of
 * when it meant to play the frame (p95). Fails with every receiver's figures.
 */
export function expectInStep(records: readonly LiveRecord[], what: string): void {
  const a = analyseLiveSession(records);
  const clocks = records.map((r) => r.clockErrorMs ?? Number.NaN);
  const clockSpread = Math.max(...clocks) - Math.min(...clocks);
  // heard − meant = the receiver's lateness less its clock error (controller time − true).
  const lateness = records.flatMap((r) =>
    Array.from(r.frames.heardAt, (heard, i) =>
      Math.abs(heard - (r.frames.playoutAt[i] as number) + (r.clockErrorMs ?? 0)),
    ),
  );
  const detail = JSON.stringify({
    what,
    clockSpreadMs: round(clockSpread),
    receivers: records.map((r) => ({
      id: r.receiverId,
      firstMs: round((firstFrame(r)?.heardAt ?? 0) - (firstFrame(r)?.captureTs ?? 0)),
      clockErrorMs: round(r.clockErrorMs ?? Number.NaN),
      underruns: r.underruns.map((u) => round(u.ms)),
    })),
    firstHeardSpreadMs: a.firstHeardSpreadMs === null ? null : round(a.firstHeardSpreadMs),
    skew: summarise(a.frameSkews),
    lateness: summarise(lateness),
  });
  const allowed = Math.max(SYNC_MS, clockSpread + 5);
  for (const error of clocks) expect(Math.abs(error), detail).toBeLessThanOrEqual(GOOD_SYNC_MS);
  expect(summarise(lateness)?.p95_ms ?? Number.POSITIVE_INFINITY, detail).toBeLessThanOrEqual(10);
  expect(a.firstHeardSpreadMs ?? Number.POSITIVE_INFINITY, detail).toBeLessThanOrEqual(allowed);
  expect(summarise(a.frameSkews)?.p95_ms ?? Number.POSITIVE_INFINITY, detail).toBeLessThanOrEqual(allowed);
}

const round = (ms: number) => Math.round(ms * 10) / 10;
