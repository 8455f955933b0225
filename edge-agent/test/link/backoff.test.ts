import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/link/backoff.js';
import { seeded } from './helpers.js';

describe('reconnect backoff (exponential, full jitter)', () => {
  it('draws each delay below a bound that doubles from the base up to the cap', () => {
    const backoff = new Backoff(1000, 60_000, seeded(7));
    const bounds = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000];
    for (const bound of bounds) {
      expect(backoff.bound()).toBe(bound);
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(bound);
    }
  });

  it('reaches the edges of the jitter window, never beyond', () => {
    let r = 0.999_999_9;
    const backoff = new Backoff(1000, 60_000, () => r);
    expect(Array.from({ length: 8 }, () => backoff.next())).toEqual([
      999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999,
    ]);
    r = 0;
    expect(backoff.next()).toBe(0); // jitter reaches down to zero: a fleet spreads out
    r = 1; // a random source that misbehaves still cannot push past the bound
    expect(backoff.next()).toBe(59_999);
  });

  it('starts again from the base after reset', () => {
    const backoff = new Backoff(1000, 60_000, () => 0.5);
    for (let i = 0; i < 5; i++) backoff.next();
    expect(backoff.attempt).toBe(5);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(500);
  });

  it('spreads a fleet that lost the broker at the same moment over the whole window', () => {
    // 5000 receivers at their 4th attempt (bound 8 s): no 800 ms slice holds more than
    // about a tenth of them, so the broker never sees the whole fleet at once.
    const random = seeded(2024);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 5000; i++) {
      const backoff = new Backoff(1000, 300_000, random);
      for (let k = 0; k < 3; k++) backoff.next();
      const delay = backoff.next();
      buckets[Math.floor(delay / 800)] = (buckets[Math.floor(delay / 800)] ?? 0) + 1;
    }
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(5000);
    for (const n of buckets) {
      expect(n).toBeGreaterThan(400);
      expect(n).toBeLessThan(600);
    }
  });
});

describe('reconnect backoff with a fast phase (the link default)', () => {
  it('keeps the first tries at or below the fast cap, then doubles from there to the slow cap', () => {
    const backoff = new Backoff(1000, 300_000, () => 0.999_999_9, { attempts: 6, capMs: 8000 });
    const bounds = Array.from({ length: 12 }, () => {
      const bound = backoff.bound();
      expect(backoff.next()).toBeLessThan(bound);
      return bound;
    });
    expect(bounds).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]);
    backoff.reset();
    expect(backoff.bound()).toBe(1000);
  });
});
