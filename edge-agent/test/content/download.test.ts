import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetServer } from './asset-server.js';
import { file, harness, part, T0, until } from './setup.js';

let server: AssetServer;
beforeEach(async () => {
  server = await AssetServer.start();
});
afterEach(() => server.close());

describe('downloads', () => {
  it('downloads, verifies and reports an asset ready; reads it back', async () => {
    const h = await harness(server);
    const a = server.add(50_000);
    h.cache.want([a]);
    await h.cache.settled();
    expect(h.reports).toEqual([{ type: 'cache', sha256: a.sha256, state: 'ready', bytes: 50_000 }]);
    expect(h.cache.has(a.sha256)).toBe(true);
    expect((await h.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
    expect(await h.storage.size(part(a.sha256))).toBeUndefined();
    expect(server.requests).toEqual([{ path: `/assets/${a.sha256}`, served: 50_000 }]);
    expect(h.cache.state()).toEqual({ assets: 1, bytesUsed: 50_000, bytesFree: 10_000_000 - 50_000 });
  });

  it('merges repeated wants and does not fetch what it holds', async () => {
    const h = await harness(server);
    const a = server.add(10_000);
    h.cache.want([a, a]);
    h.cache.want([a]);
    await h.cache.settled();
    h.cache.want([a]);
    await h.cache.settled();
    expect(server.requests).toHaveLength(1);
    expect(h.reports.map((r) => r.state)).toEqual(['ready']);
  });

  it('resumes an interrupted download with Range, never fetching again the bytes it had', async () => {
    const h = await harness(server, { maxFailures: 2 });
    const a = server.add(300_000);
    // Cut four times: more than maxFailures, but each attempt makes progress, so no failure is reported.
    server.trick(a.sha256, { cutAfter: 100_000 }, { cutAfter: 50_000 }, { cutAfter: 1 }, { cutAfter: 70_000 });
    h.cache.want([a]);
    await h.cache.settled();
    const had: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const size = (await h.storage.size(part(a.sha256))) ?? 0;
      expect(size).toBeGreaterThan(had.at(-1) ?? 0);
      had.push(size);
      expect(h.cache.has(a.sha256)).toBe(false);
      await h.retry();
    }
    expect(h.cache.has(a.sha256)).toBe(true);
    const requests = server.requestsFor(a.sha256);
    expect(requests.map((r) => r.range)).toEqual([undefined, ...had.map((n) => `bytes=${n}-`)]);
    // Each request after the first asked for, and got, only what was missing.
    expect(requests.at(-1)?.served).toBe(300_000 - (had.at(-1) ?? 0));
    expect(h.reports).toEqual([{ type: 'cache', sha256: a.sha256, state: 'ready', bytes: 300_000 }]);
    expect((await h.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('starts again from the first byte when the server ignores Range', async () => {
    const h = await harness(server);
    const a = server.add(80_000);
    server.trick(a.sha256, { cutAfter: 30_000 }, { ignoreRange: true });
    h.cache.want([a]);
    await h.cache.settled();
    expect(await h.storage.size(part(a.sha256))).toBeGreaterThan(0);
    await h.retry();
    const [, second] = server.requestsFor(a.sha256);
    expect(second?.range).toMatch(/^bytes=\d+-$/);
    expect(second?.served).toBe(80_000);
    expect((await h.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('refuses a corrupted download, deletes it and downloads it again from scratch', async () => {
    const h = await harness(server);
    const a = server.add(60_000);
    server.trick(a.sha256, { corrupt: true });
    h.cache.want([a]);
    await h.cache.settled();
    expect(h.cache.has(a.sha256)).toBe(false);
    expect(h.cache.stats.verifyFailures).toBe(1);
    expect(await h.storage.size(part(a.sha256))).toBeUndefined();
    expect(await h.storage.size(file(a.sha256))).toBeUndefined();
    expect(h.reports).toEqual([]);
    await h.retry();
    expect(server.requestsFor(a.sha256).map((r) => r.range)).toEqual([undefined, undefined]);
    expect(h.reports).toEqual([{ type: 'cache', sha256: a.sha256, state: 'ready', bytes: 60_000 }]);
    expect((await h.cache.read(a.sha256))?.equals(server.files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('refuses a file of the wrong size, reports it failed after maxFailures, and stops fetching it until wanted again', async () => {
    const h = await harness(server, { maxFailures: 2 });
    const a = server.add(20_000);
    const wrong = { ...a, bytes: 19_999 };
    h.cache.want([wrong]);
    await h.cache.settled();
    expect(h.cache.stats.verifyFailures).toBe(1);
    expect(h.reports).toEqual([]);
    await h.retry();
    expect(h.reports).toEqual([
      {
        type: 'cache',
        sha256: a.sha256,
        state: 'failed',
        reason: expect.stringMatching(/20000 bytes, expected 19999/),
      },
    ]);
    // Parked: the same wrong file is not fetched over the metered link again and again.
    expect(h.clock.nextDueIn()).toBeUndefined();
    await h.clock.advance(3_600_000);
    await h.cache.settled();
    expect(server.requestsFor(a.sha256)).toHaveLength(2);
    expect(h.cache.assetStatus()).toMatchObject([{ sha256: a.sha256, state: 'failed', failures: 2 }]);
    // The corrected reference starts afresh.
    h.cache.want([a]);
    await h.cache.settled();
    expect(h.reports.at(-1)).toEqual({ type: 'cache', sha256: a.sha256, state: 'ready', bytes: 20_000 });
  });

  it('stops reading a body that grows past the expected size (no Content-Length to check first)', async () => {
    const h = await harness(server);
    const a = server.add(20_000);
    // 300 000 bytes, chunked, for a file said to be 20 000: refused as soon as it is too long.
    server.chunkDelayMs = 1;
    server.trick(a.sha256, { body: Buffer.alloc(300_000, 1) });
    h.cache.want([a]);
    await h.cache.settled();
    expect(h.cache.stats.verifyFailures).toBe(1);
    expect(h.cache.assetStatus()[0]?.lastError).toMatch(/more than 20000 bytes/);
    expect(h.cache.stats.bytesDownloaded).toBeLessThan(20_000 + 8192);
    expect(await h.storage.size(part(a.sha256))).toBeUndefined();
    await h.retry();
    expect(h.cache.has(a.sha256)).toBe(true);
  });

  it('retries 500 and 404 with growing backoff on the clock, reports failed after maxFailures, then recovers', async () => {
    const h = await harness(server, { maxFailures: 3 });
    const a = server.add(5_000);
    server.trick(a.sha256, { status: 500 }, { status: 404 }, { status: 500 }, { status: 503 });
    h.cache.want([a]);
    await h.cache.settled();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(h.clock.nextDueIn() ?? -1);
      await h.retry();
    }
    // Full jitter with random 0.5: half of 1 s, 2 s, 4 s, 8 s.
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    const failed = h.reports.filter((r) => r.state === 'failed');
    expect(failed).toEqual([
      { type: 'cache', sha256: a.sha256, state: 'failed', reason: expect.stringMatching(/HTTP 500 .*3 attempts/) },
    ]);
    expect(h.reports.at(-1)).toEqual({ type: 'cache', sha256: a.sha256, state: 'ready', bytes: 5_000 });
    expect(server.requestsFor(a.sha256)).toHaveLength(5);
  });

  it('keeps retrying when the controller cannot be reached at all', async () => {
    const h = await harness(server, { baseUrl: 'http://127.0.0.1:9', maxFailures: 2 });
    const a = server.add(1_000);
    h.cache.want([a]);
    await h.cache.settled();
    await h.retry();
    expect(h.reports).toEqual([
      { type: 'cache', sha256: a.sha256, state: 'failed', reason: expect.stringMatching(/127\.0\.0\.1:9/) },
    ]);
    expect(h.clock.nextDueIn()).toBeGreaterThan(0);
  });

  it('abandons a stalled response after the request timeout and resumes from the bytes received', async () => {
    const h = await harness(server, { requestTimeoutMs: 20_000 });
    const a = server.add(40_000);
    server.trick(a.sha256, { stallAfter: 12_000 });
    h.cache.want([a]);
    await until(() => h.cache.assetStatus()[0]?.have === 12_000);
    await h.clock.advance(19_000);
    expect(h.cache.assetStatus()[0]?.state).toBe('downloading');
    await h.clock.advance(1_000);
    await h.cache.settled();
    expect(h.cache.assetStatus()[0]).toMatchObject({ state: 'retrying', lastError: expect.stringMatching(/no data/) });
    expect(await h.storage.size(part(a.sha256))).toBe(12_000);
    await h.retry();
    expect(server.requestsFor(a.sha256).map((r) => [r.range, r.served])).toEqual([
      [undefined, 12_000],
      ['bytes=12000-', 28_000],
    ]);
    expect(h.cache.has(a.sha256)).toBe(true);
  });
});

describe('addresses and credentials', () => {
  it('resolves paths below the controller base URL and sends the credential to the controller only', async () => {
    const controller = await AssetServer.start({ prefix: '/loa', authorization: 'Bearer t0k' });
    try {
      const h = await harness(controller, { baseUrl: `${controller.url}/loa`, credential: { bearer: 't0k' } });
      const rooted = controller.add(1_000);
      const relative = { ...controller.add(1_000) };
      relative.url = relative.url.slice(1); // "assets/<sha>"
      const absolute = server.add(1_000);
      absolute.url = `${server.url}/assets/${absolute.sha256}`;
      const redirected = server.add(1_000);
      controller.files.set(redirected.sha256, server.files.get(redirected.sha256) as Buffer);
      controller.trick(redirected.sha256, { redirect: `${server.url}/assets/${redirected.sha256}` });
      h.cache.want([rooted, relative, absolute, redirected]);
      await h.cache.settled();
      expect(h.reports.map((r) => r.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
      expect(controller.requests.map((r) => [r.path, r.authorization]).sort()).toEqual(
        [
          [`/loa/assets/${rooted.sha256}`, 'Bearer t0k'],
          [`/loa/assets/${relative.sha256}`, 'Bearer t0k'],
          [`/loa/assets/${redirected.sha256}`, 'Bearer t0k'],
        ].sort(),
      );
      // Another host, asked directly or through a redirect, never sees the credential.
      expect(server.requests.map((r) => r.authorization)).toEqual([undefined, undefined]);
    } finally {
      await controller.close();
    }
  });

  it('sends a basic credential', async () => {
    const controller = await AssetServer.start({ authorization: `Basic ${Buffer.from('rx-1:pw').toString('base64')}` });
    try {
      const h = await harness(controller, { credential: { username: 'rx-1', password: 'pw' } });
      const a = controller.add(500);
      h.cache.want([a]);
      await h.cache.settled();
      expect(h.cache.has(a.sha256)).toBe(true);
    } finally {
      await controller.close();
    }
  });
});

describe('scheduling of downloads', () => {
  it('runs at most `concurrency` downloads at once (default 2)', async () => {
    server.chunkDelayMs = 2;
    const h = await harness(server);
    const assets = [1, 2, 3, 4, 5].map(() => server.add(40_000));
    h.cache.want(assets);
    await h.cache.settled();
    expect(h.reports.filter((r) => r.state === 'ready')).toHaveLength(5);
    expect(server.maxOpen).toBe(2);
  });

  it('fetches the earliest-needed first', async () => {
    server.chunkDelayMs = 2;
    const h = await harness(server, { concurrency: 1 });
    const [first, late, early, earliest] = [1, 2, 3, 4].map(() => server.add(20_000));
    if (!first || !late || !early || !earliest) throw new Error('assets');
    h.cache.want([first], T0 + 1000);
    h.cache.want([late], T0 + 7_200_000);
    h.cache.want([early], T0 + 3_600_000);
    h.cache.want([earliest], T0 + 1_800_000);
    h.cache.want([late], T0 + 2_700_000); // a repeat takes the earlier need
    await h.cache.settled();
    expect(server.requests.map((r) => r.path.split('/').pop())).toEqual([
      first.sha256,
      earliest.sha256,
      late.sha256,
      early.sha256,
    ]);
  });

  it('lets an urgent asset interrupt a download needed later, which then resumes where it stopped', async () => {
    server.chunkDelayMs = 3;
    const h = await harness(server, { concurrency: 1 });
    const tomorrow = server.add(400_000);
    const warning = server.add(30_000);
    h.cache.want([tomorrow], T0 + 86_400_000);
    await until(() => (h.cache.assetStatus()[0]?.have ?? 0) > 50_000);
    h.cache.want([warning]);
    await h.cache.settled();
    expect(h.reports.map((r) => r.sha256)).toEqual([warning.sha256, tomorrow.sha256]);
    const [cut, resumed] = server.requestsFor(tomorrow.sha256);
    const start = Number(/^bytes=(\d+)-$/.exec(resumed?.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(50_000);
    expect(start).toBeLessThanOrEqual(cut?.served ?? 0);
    expect(resumed?.served).toBe(400_000 - start);
    expect(h.reports.filter((r) => r.state === 'failed')).toEqual([]);
    expect(h.cache.stats.requests).toBe(3);
  });
});

describe('waiting for assets (a play-now waiting for its audio)', () => {
  it('resolves as the last asset lands, at once when held, and false on timeout or close', async () => {
    const h = await harness(server);
    const a = server.add(20_000);
    const b = server.add(20_000);
    const waiting = h.cache.whenHeld([a.sha256, b.sha256], 60_000);
    let done: boolean | undefined;
    void waiting.then((v) => {
      done = v;
    });
    h.cache.want([a]);
    await h.cache.settled();
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBeUndefined(); // one of two is not enough
    h.cache.want([b]);
    expect(await waiting).toBe(true);
    expect(await h.cache.whenHeld([a.sha256], 1)).toBe(true);

    const never = server.add(10);
    const timedOut = h.cache.whenHeld([never.sha256], 5_000);
    await h.clock.advance(5_000);
    expect(await timedOut).toBe(false);

    const closing = h.cache.whenHeld([never.sha256], 60_000);
    await h.cache.close();
    expect(await closing).toBe(false);
    expect(await h.cache.whenHeld([never.sha256], 60_000)).toBe(false);
  });
});
