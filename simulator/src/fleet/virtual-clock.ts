import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '@loa/edge-agent';

/**
 * A receiver's own clock: real time, off by a fixed offset and running fast or slow by
 * a drift (parts per million), as cheap boards without a good RTC are. Timers are real.
 */
export function driftingClock(offsetMs: number, driftPpm = 0): Clock {
  const start = performance.now();
  return {
    now: () => Date.now() + offsetMs + ((performance.now() - start) * driftPpm) / 1e6,
    // A crystal off by some ppm makes both clocks run off: the agent measures intervals
    // on the monotonic one, so it must drift too for the drift to show between syncs.
    monotonic: () => start + (performance.now() - start) * (1 + driftPpm / 1e6),
    setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)) as unknown as TimerHandle,
    clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  };
}
