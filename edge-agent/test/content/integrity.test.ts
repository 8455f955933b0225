import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { AssetServer } from './asset-server.js';
import { file, harness, part } from './setup.js';

let server: AssetServer;
beforeEach(async () => {
  server = await AssetServer.start();
});
afterEach(() => server.close());

async function damage(storage: MemoryStorage, name: string, at: number): Promise<void> {
  const bytes = (await storage.read(name)) as Buffer;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await storage.writeAtomic(name, bytes);
}

describe('integrity on disk', () => {
  it('refuses an asset corrupted on disk: deleted, reported, fetched again', async () => {
    const storage = new MemoryStorage();
    const h = await harness(server, { storage });
    const a = server.add(30_000);
    h.cache.want([a]);
    await h.cache.settled();
    await damage(storage, file(a.sha256), 12_345);

    expect(await h.cache.read(a.sha256)).toBeUndefined();
    expect(h.cache.has(a.sha256)).toBe(false);
    expect(h.reports.at(-1)).toEqual({
      type: 'cache',
      sha256: a.sha256,
      state: 'failed',
      reason: expect.stringMatching(/corrupted on disk.*downloading again/),
    });
    await h.cache.settled();
    expect(server.requestsFor(a.sha256)).toHaveLength(2);
    expect(h.reports.map((r) => r.state)).toEqual(['ready', 'failed', 'ready']);
    expect((await h.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
    expect(h.cache.stats.corruptOnDisk).toBe(1);
  });

  it('reports a damaged file once when several readers find it', async () => {
    const storage = new MemoryStorage();
    const h = await harness(server, { storage });
    const a = server.add(10_000);
    h.cache.want([a]);
    await h.cache.settled();
    await damage(storage, file(a.sha256), 5);
    const reads = await Promise.all([h.cache.read(a.sha256), h.cache.read(a.sha256), h.cache.read(a.sha256)]);
    expect(reads).toEqual([undefined, undefined, undefined]);
    await h.cache.settled();
    expect(h.reports.map((r) => r.state)).toEqual(['ready', 'failed', 'ready']);
    expect(server.requestsFor(a.sha256)).toHaveLength(2);
  });

  it('refuses a file missing from disk the same way', async () => {
    const storage = new MemoryStorage();
    const h = await harness(server, { storage });
    const a = server.add(10_000);
    h.cache.want([a]);
    await h.cache.settled();
    await storage.remove(file(a.sha256));
    expect(await h.cache.read(a.sha256)).toBeUndefined();
    expect(h.reports.at(-1)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/missing on disk/) });
    await h.cache.settled();
    expect(h.cache.has(a.sha256)).toBe(true);
  });

  it('refuses an asset address it must not fetch (no file: or other schemes)', async () => {
    const h = await harness(server);
    const a = server.add(1_000);
    h.cache.want([{ ...a, url: 'file:///etc/passwd' }]);
    await h.cache.settled();
    expect(h.reports).toEqual([
      {
        type: 'cache',
        sha256: a.sha256,
        state: 'failed',
        reason: expect.stringMatching(/unsupported URL scheme file:/),
      },
    ]);
    expect(server.requests).toEqual([]);
    // A path that looks like another host stays on the controller.
    h.cache.want([{ ...a, url: `//127.0.0.2:9/assets/${a.sha256}` }]);
    await h.cache.settled();
    expect(server.requests.map((r) => r.path)).toEqual([`/127.0.0.2:9/assets/${a.sha256}`]);
  });

  it('returns undefined, without reporting, for an asset it never held', async () => {
    const h = await harness(server);
    expect(await h.cache.read('0'.repeat(64))).toBeUndefined();
    expect(h.reports).toEqual([]);
  });
});

describe('restarts', () => {
  it('finds its verified assets, resumes partial downloads with Range, and refetches damaged ones it knows', async () => {
    const storage = new MemoryStorage();
    const first = await harness(server, { storage });
    const kept = server.add(20_000);
    const cut = server.add(50_000);
    const truncated = server.add(20_000);
    server.trick(cut.sha256, { cutAfter: 20_000 });
    first.cache.want([kept, truncated, cut]);
    await first.cache.settled();
    await first.cache.close();
    const had = (await storage.size(part(cut.sha256))) ?? 0;
    expect(had).toBeGreaterThan(0);
    // An interrupted write of old firmware: the file is shorter than the index says.
    const whole = (await storage.read(file(truncated.sha256))) as Buffer;
    await storage.writeAtomic(file(truncated.sha256), whole.subarray(0, 15_000));

    const second = await harness(server, { storage });
    expect(second.cache.has(kept.sha256)).toBe(true);
    expect(second.cache.has(truncated.sha256)).toBe(false);
    expect(second.reports).toEqual([
      {
        type: 'cache',
        sha256: truncated.sha256,
        state: 'failed',
        reason: 'damaged on disk: 15000 bytes, expected 20000',
      },
    ]);
    expect(second.cache.state()).toEqual({ assets: 1, bytesUsed: 20_000 + had, bytesFree: 10_000_000 - 20_000 - had });
    second.cache.want([kept, cut, truncated]);
    await second.cache.settled();
    expect(server.requestsFor(kept.sha256)).toHaveLength(1);
    expect(server.requestsFor(cut.sha256).map((r) => r.range)).toEqual([undefined, `bytes=${had}-`]);
    expect(server.requestsFor(truncated.sha256)).toHaveLength(2);
    for (const a of [kept, cut, truncated])
      expect((await second.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('drops a partial download nobody wants when it needs the room', async () => {
    const storage = new MemoryStorage();
    const first = await harness(server, { storage });
    const abandoned = server.add(30_000);
    server.trick(abandoned.sha256, { cutAfter: 25_000 });
    first.cache.want([abandoned]);
    await first.cache.settled();
    await first.cache.close();
    expect(await storage.size(part(abandoned.sha256))).toBeGreaterThan(0);

    const second = await harness(server, { storage, budgetBytes: 40_000 });
    const next = server.add(30_000);
    second.cache.want([next]);
    await second.cache.settled();
    expect(second.cache.has(next.sha256)).toBe(true);
    expect(await storage.size(part(abandoned.sha256))).toBeUndefined();
    expect(second.reports).toEqual([{ type: 'cache', sha256: next.sha256, state: 'ready', bytes: 30_000 }]);
  });
});
