import type { AssetRef } from '@loa/protocols';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/hardware/seams.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { AssetServer } from './asset-server.js';
import { file, type Harness, harness } from './setup.js';

let server: AssetServer;
beforeEach(async () => {
  server = await AssetServer.start();
});
afterEach(() => server.close());

const evicted = (h: Harness) => h.reports.filter((r) => r.state === 'evicted');

async function fetchAll(h: Harness, ...assets: AssetRef[]): Promise<void> {
  for (const a of assets) {
    h.cache.want([a]);
    await h.cache.settled();
    expect(h.cache.has(a.sha256)).toBe(true);
  }
}

/** Storage whose reads of one file wait until released: an asset "being read". */
class SlowReads extends MemoryStorage {
  blocked: string | undefined;
  release: () => void = () => {};
  override async read(name: string): Promise<Buffer | undefined> {
    if (name === this.blocked) await new Promise<void>((resolve) => (this.release = resolve));
    return super.read(name);
  }
}

describe('eviction by need', () => {
  it('evicts the least recently used assets the horizon does not retain, reporting each, never more than needed', async () => {
    const h = await harness(server, { budgetBytes: 30_000 });
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(() => server.add(10_000)) as AssetRef[] as [
      AssetRef,
      AssetRef,
      AssetRef,
      AssetRef,
      AssetRef,
    ];
    await fetchAll(h, a, b, c);
    expect(evicted(h)).toEqual([]);
    await h.cache.read(a.sha256); // use order now: b, c, a
    h.cache.retain([b.sha256]);
    await fetchAll(h, d);
    expect(evicted(h)).toEqual([{ type: 'cache', sha256: c.sha256, state: 'evicted', bytes: 10_000 }]);
    await fetchAll(h, e);
    expect(evicted(h).map((r) => r.sha256)).toEqual([c.sha256, a.sha256]);
    expect([a, b, c, d, e].map((x) => h.cache.has(x.sha256))).toEqual([false, true, false, true, true]);
    expect(await h.storage.size(file(c.sha256))).toBeUndefined();
    expect(h.cache.state()).toEqual({ assets: 3, bytesUsed: 30_000, bytesFree: 0 });
    expect(h.cache.stats.evicted).toBe(2);
  });

  it('never evicts an asset while it is being read', async () => {
    const storage = new SlowReads();
    const h = await harness(server, { storage, budgetBytes: 20_000 });
    const [a, b, c] = [1, 2, 3].map(() => server.add(10_000)) as [AssetRef, AssetRef, AssetRef];
    await fetchAll(h, a, b);
    storage.blocked = file(a.sha256); // a is the least recently used, and being read
    const reading = h.cache.read(a.sha256);
    await fetchAll(h, c);
    expect(evicted(h).map((r) => r.sha256)).toEqual([b.sha256]);
    storage.release();
    expect((await reading)?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('reports no room rather than evicting what the schedule needs, and downloads once the horizon moves on', async () => {
    const h = await harness(server, { budgetBytes: 25_000 });
    const [a, b, c] = [1, 2, 3].map(() => server.add(10_000)) as [AssetRef, AssetRef, AssetRef];
    await fetchAll(h, a, b);
    h.cache.retain([a.sha256, b.sha256]);
    h.cache.want([c]);
    await h.cache.settled();
    expect(h.cache.has(c.sha256)).toBe(false);
    expect(evicted(h)).toEqual([]);
    expect(h.reports.at(-1)).toEqual({
      type: 'cache',
      sha256: c.sha256,
      state: 'failed',
      reason: expect.stringMatching(/^no room/),
    });
    expect(server.requestsFor(c.sha256)).toEqual([]);
    h.cache.retain([b.sha256, c.sha256]);
    await h.cache.settled();
    expect(h.cache.has(c.sha256)).toBe(true);
    expect(evicted(h).map((r) => r.sha256)).toEqual([a.sha256]);
  });

  it('refuses an asset larger than the whole budget without evicting anything', async () => {
    const h = await harness(server, { budgetBytes: 25_000 });
    const [a, big] = [server.add(10_000), server.add(30_000)];
    await fetchAll(h, a);
    h.cache.want([big]);
    await h.cache.settled();
    expect(h.reports.at(-1)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/larger than the cache budget/),
    });
    expect(h.cache.has(a.sha256)).toBe(true);
  });

  it('also makes room by the free space the board reports', async () => {
    // A 45 kB card keeping 15 kB free: two 10 kB assets and the index fit, a third needs one evicted.
    const storage = new MemoryStorage(45_000);
    const h = await harness(server, {
      storage,
      budgetBytes: 1_000_000_000,
      freeBytes: async () => 45_000 - storage.bytesUsed(),
      reserveBytes: 15_000,
    });
    const [a, b, c] = [1, 2, 3].map(() => server.add(10_000)) as [AssetRef, AssetRef, AssetRef];
    await fetchAll(h, a, b);
    expect(evicted(h)).toEqual([]);
    await fetchAll(h, c);
    expect(evicted(h).map((r) => r.sha256)).toEqual([a.sha256]);
    expect(h.cache.state().bytesFree).toBeLessThan(15_000);
  });

  it('remembers the use order across a restart', async () => {
    const storage: Storage = new MemoryStorage();
    // `older` sorts first by name, so an order forgotten at restart would evict it.
    let older: AssetRef;
    let newer: AssetRef;
    do {
      older = server.add(10_000);
      newer = server.add(10_000);
    } while (older.sha256 > newer.sha256);
    const first = await harness(server, { storage, budgetBytes: 20_000 });
    await fetchAll(first, older, newer);
    await first.cache.read(older.sha256); // now `newer` is the least recently used
    await first.cache.close();

    const second = await harness(server, { storage, budgetBytes: 20_000 });
    await fetchAll(second, server.add(10_000));
    expect(evicted(second).map((r) => r.sha256)).toEqual([newer.sha256]);
    expect(second.cache.has(older.sha256)).toBe(true);
  });
});

describe('status', () => {
  it('lists each asset with its state for the status command', async () => {
    const h = await harness(server, { maxFailures: 1 });
    const [ready, broken] = [server.add(1_000), server.add(1_000)];
    server.trick(broken.sha256, { status: 500 });
    h.cache.want([ready]);
    await h.cache.settled();
    h.cache.retain([ready.sha256]);
    h.cache.want([broken]);
    await h.cache.settled();
    expect(h.cache.assetStatus()).toEqual([
      {
        sha256: broken.sha256,
        state: 'failed',
        bytes: 1_000,
        have: 0,
        retained: false,
        neededBy: h.clock.now(),
        failures: 1,
        lastError: expect.stringMatching(/HTTP 500/),
        retryInMs: 500,
      },
      { sha256: ready.sha256, state: 'ready', bytes: 1_000, retained: true, lastUsedAt: h.clock.now() },
    ]);
    // Telemetry carries exactly these fields (its schema allows no others).
    expect(Object.keys(h.cache.state()).sort()).toEqual(['assets', 'bytesFree', 'bytesUsed']);
  });
});
