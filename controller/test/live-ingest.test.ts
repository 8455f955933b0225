import { describe, expect, it } from 'vitest';
import { openLiveSession } from '../src/live/live-broadcast.js';
import { LIVE_NO_REPORT } from '../src/live/live-deliveries.js';
import type { IssuedLiveTarget } from '../src/live/live-start.js';
import { useLiveFixture } from './support/live-fixture.js';

const fx = useLiveFixture('LI');
const { P } = fx;
const C1 = `${P}-D1-C1`;
const C2 = `${P}-D1-C2`;

const deliveries = async (sessionId: string) =>
  Object.fromEntries((await fx.db().liveDelivery.findMany({ where: { sessionId } })).map((d) => [d.receiverId, d]));
const liveEvents = (sessionId: string, receiverId: string) =>
  fx.events
    .filter((e) => e.type === 'live.delivery' && e.sessionId === sessionId && e.receiverId === receiverId)
    .map((e) => (e as { state: string }).state);

describe('receivers’ reports of a live session', () => {
  it('move each receiver’s live delivery forward only: acknowledged, started, finished / interrupted / failed; missed when unheard, until a late report', async () => {
    const b = await openLiveSession(fx.deps(), 'system', {
      kind: 'speech',
      title: 'họp thôn',
      priority: 'live',
      areaIds: [fx.areaId(C1)],
      volume: 80,
      prelude: 'none',
    });
    const row = await fx.db().liveSession.findUniqueOrThrow({ where: { id: b.id } });
    const issued = row.issuedTargets as unknown as IssuedLiveTarget[];
    expect(issued).toHaveLength(1);
    const commandId = issued[0]?.commandId as string;
    expect(await fx.db().dispatchedCommand.findUnique({ where: { id: commandId } })).toMatchObject({
      kind: 'live.start',
      targetKey: `commune:${C1}`,
    });
    const [a, bRx, c, d, e, late] = fx
      .province()
      .receivers.filter((r) => r.villageCode.startsWith(C1))
      .map((r) => r.id) as [string, string, string, string, string, string];
    const play = (receiverId: string, state: string, extra: Record<string, unknown> = {}) =>
      fx.report(receiverId, { type: 'play', itemId: b.id, source: 'live', state, priority: 'live', ...extra });

    await fx.report(a, { type: 'ack', commandId, result: 'accepted' });
    expect((await deliveries(b.id))[a]).toMatchObject({ state: 'acknowledged' });
    expect((await deliveries(b.id))[a]?.acknowledgedAt).not.toBeNull();
    await play(a, 'started');
    await play(a, 'finished', { playedMs: 5000 });
    // A repeated, late "started" cannot undo "finished".
    await play(a, 'started');
    expect((await deliveries(b.id))[a]).toMatchObject({ state: 'finished' });
    expect(liveEvents(b.id, a)).toEqual(['acknowledged', 'started', 'finished']);

    // Started without its acknowledgement having arrived: acknowledged all the same.
    await play(bRx, 'started');
    await play(bRx, 'interrupted', { reason: 'heartbeat_lost' });
    expect((await deliveries(b.id))[bRx]).toMatchObject({ state: 'interrupted', reason: 'heartbeat_lost' });
    expect((await deliveries(b.id))[bRx]?.acknowledgedAt).not.toBeNull();

    await fx.report(c, { type: 'ack', commandId, result: 'refused', reason: 'expired' });
    expect((await deliveries(b.id))[c]).toMatchObject({ state: 'failed', reason: 'refused: expired' });
    // A second copy of a command already taken says nothing.
    await fx.report(d, { type: 'ack', commandId, result: 'accepted' });
    await fx.report(d, { type: 'ack', commandId, result: 'refused', reason: 'replayed' });
    expect((await deliveries(b.id))[d]).toMatchObject({ state: 'acknowledged' });
    await play(e, 'started');
    await play(e, 'interrupted', { interruptedBy: 'alert-1.r0.1' });
    expect((await deliveries(b.id))[e]).toMatchObject({ state: 'interrupted', reason: 'interrupted by alert-1.r0.1' });

    await b.end('done');
    const ended = await deliveries(b.id);
    expect(ended[d]).toMatchObject({ state: 'missed', reason: LIVE_NO_REPORT });
    expect(ended[late]).toMatchObject({ state: 'missed', reason: LIVE_NO_REPORT });
    expect(ended[a]).toMatchObject({ state: 'finished' });
    expect(Object.values(ended).filter((x) => x.state === 'missed')).toHaveLength(6);
    // A receiver that was offline reports from its log afterwards: that replaces the guess.
    await play(late, 'started');
    await play(late, 'finished');
    expect((await deliveries(b.id))[late]).toMatchObject({ state: 'finished', reason: null });
  });

  it('of a relay also move the occurrence’s delivery, as a schedule airing does', async () => {
    const db = fx.db();
    const commune = await db.area.findUniqueOrThrow({ where: { code: C2 } });
    const content = await db.content.create({
      data: { title: 'VOV1', category: 'programme', ownerAreaId: commune.id },
    });
    const schedule = await db.schedule.create({
      data: {
        title: 'Tiếp sóng VOV1',
        contentId: content.id,
        ownerAreaId: commune.id,
        startLocal: '2026-12-01T06:00:00',
        durationMs: 1_800_000,
        priority: 'normal',
        startMode: 'hard',
        volume: 80,
        relayUrl: 'http://radio.example/vov1',
      },
    });
    const occurrence = await db.occurrence.create({
      data: { scheduleId: schedule.id, startsAt: new Date(), endsAt: new Date(Date.now() + 1_800_000) },
    });
    const rx = fx.province().receivers.find((r) => r.villageCode.startsWith(C2))?.id as string;
    await db.delivery.create({ data: { occurrenceId: occurrence.id, receiverId: rx, state: 'acknowledged' } });
    const b = await openLiveSession(fx.deps(), 'system', {
      kind: 'relay',
      title: 'Tiếp sóng VOV1',
      priority: 'normal',
      areaIds: [commune.id],
      volume: 80,
      prelude: 'none',
      sessionId: occurrence.id,
      occurrenceId: occurrence.id,
      relayUrl: 'http://radio.example/vov1',
    });
    expect(b.id).toBe(occurrence.id);
    // The session id is the receivers' item id and a uuid column: anything else is refused before anything is sent.
    await expect(
      openLiveSession(fx.deps(), 'system', {
        kind: 'relay',
        title: 'bad id',
        priority: 'normal',
        areaIds: [commune.id],
        volume: 80,
        sessionId: 'vov1-morning',
      }),
    ).rejects.toMatchObject({ status: 400 });
    // A relay of the same occurrence cannot be opened twice.
    await expect(
      openLiveSession(fx.deps(), 'system', {
        kind: 'relay',
        title: 'again',
        priority: 'normal',
        areaIds: [commune.id],
        volume: 80,
        sessionId: occurrence.id,
        occurrenceId: occurrence.id,
      }),
    ).rejects.toMatchObject({ status: 409 });
    await fx.report(rx, { type: 'play', itemId: occurrence.id, source: 'live', state: 'started', priority: 'normal' });
    const delivery = await db.delivery.findUniqueOrThrow({
      where: { occurrenceId_receiverId: { occurrenceId: occurrence.id, receiverId: rx } },
    });
    expect(delivery.state).toBe('started');
    expect(delivery.startedAt).not.toBeNull();
    expect((await deliveries(b.id))[rx]).toMatchObject({ state: 'started' });
    expect(fx.events).toContainEqual(
      expect.objectContaining({
        type: 'delivery.state',
        occurrenceId: occurrence.id,
        receiverId: rx,
        state: 'started',
      }),
    );
    await fx.report(rx, { type: 'play', itemId: occurrence.id, source: 'live', state: 'finished', priority: 'normal' });
    await b.end('occurrence_ended');
    expect((await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).state).toBe('finished');
    expect((await deliveries(b.id))[rx]).toMatchObject({ state: 'finished' });
    expect(await db.liveSession.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({
      kind: 'relay',
      occurrenceId: occurrence.id,
      state: 'ended',
      endReason: 'occurrence_ended',
    });
  });
});
