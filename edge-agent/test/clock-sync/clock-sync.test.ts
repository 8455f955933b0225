import {
  answerTimeRequest,
  generateSigningKey,
  loadSigningKey,
  type SigningKey,
  type TimeRequest,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ClockSync, type ClockSyncOptions } from '../../src/clock-sync/clock-sync.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';

// Unit tests on virtual time: a fake controller whose clock is `offsetMs` ahead of the
// receiver's answers each request with a signed response after chosen network delays.

const START = Date.UTC(2025, 5, 1, 1, 0, 0);
const jwk = generateSigningKey();
const key = loadSigningKey(jwk);
const trusted = new TrustedKeySet([trustedKeyFor(jwk)]);

interface Network {
  /** Delays (up, down) of the i-th request; undefined: lost. */
  delays: (i: number) => [number, number] | undefined;
  offsetMs: number;
  signer?: SigningKey;
  /** Changes the answer before it is sent (forgeries, other receivers). */
  tamper?: (answer: Record<string, unknown>) => Record<string, unknown>;
  online?: () => boolean;
}

function setup(network: Network, options: Partial<ClockSyncOptions> = {}) {
  const clock = new ManualClock(START);
  // The controller's time follows the receiver's monotonic clock, so stepping the
  // receiver's wall clock (clock.jump) does not move the controller.
  const controllerNow = () => START + clock.monotonic() + network.offsetMs;
  const delivered: Buffer[] = [];
  let i = 0;
  let sync: ClockSync | undefined;
  const publish = async (_topic: string, payload: string) => {
    if (network.online && !network.online()) throw new Error('not connected to the broker');
    const delays = network.delays(i++);
    if (!delays) return;
    const request = JSON.parse(payload) as TimeRequest;
    clock.setTimeout(() => {
      const answer = answerTimeRequest(request, controllerNow(), network.signer ?? key, controllerNow);
      const sent = network.tamper ? network.tamper({ ...answer }) : answer;
      clock.setTimeout(() => {
        const buffer = Buffer.from(JSON.stringify(sent));
        delivered.push(buffer);
        sync?.onResponse(buffer);
      }, delays[1]);
    }, delays[0]);
  };
  sync = new ClockSync({
    receiverId: 'rx-unit-1',
    clock,
    keys: trusted,
    publish,
    samples: 8,
    spacingMs: 250,
    answerTimeoutMs: 2000,
    ...options,
  });
  const run = async () => {
    const result = sync.syncNow();
    await clock.advance(10_000);
    return result;
  };
  return { clock, sync, run, delivered, requests: () => i };
}

describe('clock sync (virtual time)', () => {
  it('keeps the lowest-delay samples: queueing on the link does not bend the offset', async () => {
    // Three clean exchanges (20 ms each way) among five held up in a 3G uplink queue:
    // their offsets are off by 140 to 445 ms, all the same way, so a median of all
    // eight would be bent too.
    const clean: [number, number] = [20, 20];
    const noisy: Array<[number, number]> = [
      [500, 30],
      [300, 20],
      [700, 40],
      [900, 10],
      [400, 50],
    ];
    const plan = [noisy[0], clean, noisy[1], noisy[2], clean, noisy[3], clean, noisy[4]];
    const { sync, run, clock } = setup({ offsetMs: -90_000, delays: (i) => plan[i] });
    expect(sync.state()).toMatchObject({ synced: false, offsetMs: 0 });
    expect(sync.controllerTime()).toBe(clock.now());
    const state = await run();
    expect(state).toMatchObject({ synced: true, stale: false, offsetMs: -90_000 });
    expect(state.errorMs).toBeCloseTo(20, 0); // half the best round trip (40 ms)
    expect(state.at).toBeGreaterThan(START);
    expect(sync.controllerTime()).toBe(clock.now() - 90_000);
    expect(sync.stats).toMatchObject({ requests: 8, answers: 8, refused: 0, unexpected: 0 });
  });

  it('without answers stays unsynced, retries sooner and sooner less often, then every period once answered', async () => {
    let answering = false;
    const { sync, clock, requests } = setup(
      { offsetMs: 5000, delays: () => (answering ? [10, 10] : undefined) },
      { retryMs: 60_000, everyMs: 15 * 60_000 },
    );
    sync.start();
    await clock.advance(10_000);
    expect(sync.state()).toMatchObject({ synced: false, offsetMs: 0, stale: false });
    expect(sync.stats.failedBursts).toBe(1);
    expect(requests()).toBe(8);
    // The burst ended 250 * 7 + 2000 ms after it began; the retry is 60 s after that.
    expect(clock.nextDueIn()).toBe(3750 + 60_000 - 10_000);
    await clock.advance(60_000);
    expect(sync.stats.failedBursts).toBe(2);
    expect(clock.nextDueIn()).toBe(63_750 + 3750 + 120_000 - 70_000); // doubled
    answering = true;
    await clock.advance(120_000);
    expect(sync.state()).toMatchObject({ synced: true, offsetMs: 5000 });
    expect(requests()).toBe(24);
    const dueIn = clock.nextDueIn() as number;
    expect(dueIn).toBeGreaterThan(14 * 60_000);
    expect(dueIn).toBeLessThanOrEqual(15 * 60_000);
    sync.stop();
    expect(clock.nextDueIn()).toBeUndefined();
  });

  it('follows a poor sync up soon, and never lets a worse estimate replace a better one', async () => {
    // Every answer queued for 400-600 ms (a controller swamped by a fleet syncing at once),
    // then a clean network again.
    let swamped = true;
    const { sync, clock } = setup(
      {
        offsetMs: 7000,
        delays: (i) => (swamped ? [400 + (i % 3) * 100, 20] : [10, 10]),
      },
      { everyMs: 15 * 60_000, poorRetryMs: 30_000, goodErrorMs: 25 },
    );
    sync.start();
    await clock.advance(10_000);
    const poor = sync.state();
    expect(poor.synced).toBe(true);
    expect(poor.errorMs).toBeGreaterThan(200); // honest about it
    // Poor: the next burst comes in 30 s, not 15 minutes.
    expect(clock.nextDueIn()).toBeLessThanOrEqual(30_000);
    swamped = false;
    await clock.advance(30_000 + 10_000);
    const good = sync.state();
    expect(good.offsetMs).toBeCloseTo(7000, 0);
    expect(good.errorMs).toBeLessThan(15);
    expect(clock.nextDueIn()).toBeGreaterThan(14 * 60_000); // good again: the normal period
    // A worse burst later does not replace the good estimate.
    swamped = true;
    const again = sync.syncNow();
    await clock.advance(10_000);
    await again;
    expect(sync.stats.answers).toBeGreaterThanOrEqual(24);
    expect(sync.state().errorMs).toBeLessThan(15);
    expect(sync.state().offsetMs).toBeCloseTo(7000, 0);
  });

  it('keeps its last estimate when answers stop, with a growing error, and calls it stale after a while', async () => {
    let answering = true;
    const { sync, clock, run } = setup(
      { offsetMs: 1234, delays: () => (answering ? [15, 15] : undefined) },
      { staleAfterMs: 3600_000, driftPpm: 50 },
    );
    await run();
    const first = sync.state();
    expect(first).toMatchObject({ synced: true, offsetMs: 1234 });
    answering = false;
    await run();
    expect(sync.state()).toMatchObject({ synced: true, offsetMs: 1234 });
    await clock.advance(3600_000);
    const later = sync.state();
    expect(later).toMatchObject({ synced: false, stale: true, offsetMs: 1234, at: first.at });
    expect(later.errorMs - first.errorMs).toBeCloseTo((10_000 + 3600_000) * 50e-6, 3); // 50 ppm of the time since
    expect(sync.controllerTime()).toBe(clock.now() + 1234);
  });

  it('refuses forged answers and answers for another receiver; ignores repeats and late answers', async () => {
    const other = loadSigningKey(generateSigningKey());
    const forged = setup({ offsetMs: 3_600_000, delays: () => [10, 10], signer: other });
    expect(await forged.run()).toMatchObject({ synced: false, offsetMs: 0 });
    expect(forged.sync.stats).toMatchObject({ requests: 8, answers: 0, refused: 8 });

    const misdirected = setup({
      offsetMs: 3_600_000,
      delays: () => [10, 10],
      tamper: (a) => ({ ...a, receiverId: 'rx-unit-2' }), // breaks the signature too
    });
    expect(await misdirected.run()).toMatchObject({ synced: false });
    expect(misdirected.sync.stats.refused).toBe(8);

    const late = setup({ offsetMs: 700, delays: (i) => (i === 0 ? [10, 10] : [10, 5000]) });
    const state = await late.run();
    expect(state).toMatchObject({ synced: true, offsetMs: 700 });
    expect(late.sync.stats).toMatchObject({ answers: 1, unexpected: 7 }); // arrived after the burst
    for (const answer of late.delivered.slice(0, 2)) late.sync.onResponse(answer); // replays
    late.sync.onResponse(Buffer.from('{"not":"an answer"}'));
    expect(late.sync.stats).toMatchObject({ answers: 1, unexpected: 9, refused: 1 });
    expect(late.sync.state().offsetMs).toBe(700);
  });

  it('runs one burst at a time: calls during a burst join it, and one timer stays pending', async () => {
    const { sync, clock, requests } = setup({ offsetMs: 42, delays: () => [10, 10] }, { everyMs: 60_000 });
    sync.start();
    const joined = [sync.syncNow(), sync.syncNow()];
    sync.linkUp();
    await clock.advance(5000);
    expect((await Promise.all(joined)).map((s) => s.offsetMs)).toEqual([42, 42]);
    expect(requests()).toBe(8);
    expect(clock.nextDueIn()).toBe(60_000 - (5000 - 1750 - 20));
    await clock.advance(10 * 60_000);
    // One burst every 60 s after the last one ended (1770 ms long): ten in all, not a
    // growing number of them.
    expect(requests()).toBe(8 * 10);
  });

  it('a burst begun offline gives up at once; the link coming up starts one, unless a sync is fresh', async () => {
    let online = false;
    const { sync, clock, requests } = setup({ offsetMs: -300, delays: () => [5, 5], online: () => online });
    const offline = sync.syncNow();
    await clock.advance(0);
    expect(await offline).toMatchObject({ synced: false });
    expect(sync.stats).toMatchObject({ requests: 0, failedBursts: 1 });
    online = true;
    sync.linkUp();
    await clock.advance(5000);
    expect(sync.state()).toMatchObject({ synced: true, offsetMs: -300 });
    expect(requests()).toBe(8);
    sync.linkUp(); // a flapping link: the sync is seconds old
    await clock.advance(5000);
    expect(requests()).toBe(8);
    await clock.advance(60_000);
    sync.linkUp();
    await clock.advance(5000);
    expect(requests()).toBe(16);
  });

  it('controller time does not move when the wall clock is stepped (an RTC-less board set after boot)', async () => {
    const { sync, clock, run } = setup({ offsetMs: 90_000, delays: () => [30, 30] });
    await run();
    const before = sync.controllerTime();
    clock.jump(90_000); // the board's clock is set right by someone else
    expect(sync.controllerTime()).toBe(before);
    expect(sync.state().offsetMs).toBe(0);
    // A step in the middle of a burst does not spoil its samples either.
    const again = sync.syncNow();
    await clock.advance(600);
    clock.jump(3_000_000);
    await clock.advance(10_000);
    expect((await again).offsetMs).toBe(-3_000_000);
    expect(sync.controllerTime()).toBe(before + 600 + 10_000);
  });
});
