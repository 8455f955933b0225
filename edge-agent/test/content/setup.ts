import { expect } from 'vitest';
import { type CacheReport, ContentCache, type ContentCacheOptions } from '../../src/content/content-cache.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { Storage } from '../../src/hardware/seams.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import type { AssetServer } from './asset-server.js';

export const T0 = Date.UTC(2025, 5, 1, 1, 0, 0);

export interface Harness {
  cache: ContentCache;
  clock: ManualClock;
  storage: Storage;
  reports: CacheReport[];
  /** Lets the next retry come due, and waits until it has run. */
  retry(): Promise<void>;
}

/** A cache on a manual clock (retries only when the test says so) and memory storage. */
export async function harness(
  server: AssetServer,
  options: Partial<ContentCacheOptions> & { storage?: Storage; clock?: ManualClock } = {},
): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(T0);
  const storage = options.storage ?? new MemoryStorage();
  const reports: CacheReport[] = [];
  const cache = await ContentCache.open({
    baseUrl: server.url,
    budgetBytes: 10_000_000,
    retryBaseMs: 1000,
    retryCapMs: 8000,
    random: () => 0.5,
    ...options,
    storage,
    clock,
    report: (r) => reports.push(r),
  });
  return {
    cache,
    clock,
    storage,
    reports,
    async retry() {
      await cache.settled();
      const due = clock.nextDueIn();
      expect(due, 'a retry is scheduled').toBeDefined();
      await clock.advance(due ?? 0);
      await cache.settled();
    },
  };
}

/** Polls (real time) until the check holds; fails the test after `ms`. */
export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

export const part = (sha: string) => `assets/${sha}.part`;
export const file = (sha: string) => `assets/${sha}`;
