import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { topics } from '@loa/protocols';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEscalationJobs } from '../src/alerts/escalation-jobs.js';
import { escalateLateAlerts } from '../src/alerts/escalation-sweep.js';
import { loadControllerConfig } from '../src/config.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import type { FleetEvent } from '../src/live-events/fleet-event.js';
import { u, until, useAlertFixture } from './support/alert-fixture.js';

// The generated province (see the fixture): receiver i of village k stands at
// lat 22.3 + 0.01k + 0.001(i mod 10), lon 103.9 + 0.001k; villages 0 and 1 make commune 0.
const fx = useAlertFixture('AD');
const { P, call, draft, command } = fx;
const events: FleetEvent[] = [];
let ingest: ReceiverIngest;
let ids: string[];
let commune0: string;
let villages: string[];

beforeAll(async () => {
  ingest = new ReceiverIngest({
    db: fx.db(),
    mqttUrl: loadControllerConfig().MQTT_URL,
    onEvent: (e) => events.push(e),
  });
  ids = fx.province().receivers.map((r) => r.id);
  commune0 = fx.province().communes[0] as string;
  villages = fx.province().villages.map((v) => v.code);
  // Receivers 0-2 and the village-1 ones report in; the rest are offline.
  await fx
    .db()
    .receiver.updateMany({ where: { id: { in: [...ids.slice(0, 3), ...ids.slice(10, 20)] } }, data: { online: true } });
});

const report = (receiverId: string, body: Record<string, unknown>) =>
  ingest.handle(
    topics.receiverEvents(receiverId),
    Buffer.from(JSON.stringify({ v: 1, eventId: randomUUID(), receiverId, at: Date.now(), ...body })),
  );
const play = (receiverId: string, itemId: string, state: string) =>
  report(receiverId, { type: 'play', itemId, source: 'alert', state, priority: 'emergency' });
const deliveries = async (alertId: string, user = u(`emergency-${P}`), query = '') => {
  const response = await call('GET', `/alerts/${alertId}/deliveries${query}`, user);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    total: number;
    counts: Record<string, number>;
    late: number;
    items: Array<{ receiverId: string; state: string; reason: string | null; escalatedAt: string | null }>;
  };
};
const stateOf = (list: Awaited<ReturnType<typeof deliveries>>) =>
  Object.fromEntries(list.items.map((d) => [d.receiverId, d.state]));

/** A box of [lat, lon] corners. */
const box = (lat0: number, lat1: number, lon0: number, lon1: number) => [
  [lat0, lon0],
  [lat0, lon1],
  [lat1, lon1],
  [lat1, lon0],
];

describe('alert targeting', () => {
  it('reaches exactly the receivers inside a polygon or circle: whole villages on their topic, the rest one by one', async () => {
    const user = u(`emergency-${P}`);
    const created = await call(
      'POST',
      '/alerts',
      user,
      draft({
        status: 'Exercise',
        areas: undefined,
        // Receivers 0-4 (the south half of village 0), and all of village 1.
        polygons: [box(22.2995, 22.3045, 103.895, 103.905)],
        circles: [{ lat: 22.3145, lon: 103.901, radiusKm: 0.6 }],
      }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    expect(issued.json()).toMatchObject({ receivers: 15, clipped: 0 });
    const targets = (issued.json().commands as { topicTarget: string }[]).map((c) => c.topicTarget).sort();
    expect(targets).toEqual([...ids.slice(0, 5).map((id) => `receiver:${id}`), `village:${villages[1]}`].sort());
    const list = await deliveries(created.json().id);
    expect(list.items.map((d) => d.receiverId).sort()).toEqual([...ids.slice(0, 5), ...ids.slice(10, 20)].sort());
    // The first receiver gets its own copy, signed for it.
    const mine = issued.json().commands.find((c: { topicTarget: string }) => c.topicTarget === `receiver:${ids[0]}`);
    expect(await command(mine.id)).toMatchObject({
      kind: 'alert.issue',
      target: { type: 'receiver', receiverId: ids[0] },
    });
  });

  it('clips a drawn shape to the issuer’s scope, and refuses one holding none of it', async () => {
    const user = u(`emergency-${commune0}`);
    // Villages 0-2: the third belongs to commune 1, outside this officer's scope.
    const created = await call(
      'POST',
      '/alerts',
      user,
      draft({ areas: undefined, polygons: [box(22.2995, 22.3295, 103.89, 103.91)] }),
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ needsApproval: false });
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.json()).toMatchObject({ receivers: 20, clipped: 10 });
    expect((issued.json().commands as { topicTarget: string }[]).map((c) => c.topicTarget).sort()).toEqual(
      [`village:${villages[0]}`, `village:${villages[1]}`].sort(),
    );
    const elsewhere = await call(
      'POST',
      '/alerts',
      user,
      draft({ areas: undefined, polygons: [box(22.3295, 22.34, 103.89, 103.91)] }),
    );
    expect(elsewhere.statusCode).toBe(422);
    expect(elsewhere.json().detail).toMatch(/none in your emergency scope/);
    // A province-wide drawn Actual alert needs a second person, like one to the province.
    const wide = await call(
      'POST',
      '/alerts',
      u(`emergency-${P}`),
      draft({ areas: undefined, polygons: [box(22.2, 22.4, 103.8, 104)] }),
    );
    expect(wide.json()).toMatchObject({ needsApproval: true });
    const early = await call('POST', `/alerts/${wide.json().id}/issue`, u(`emergency-${P}`));
    expect(early.statusCode).toBe(409);
  });
});

describe('alert delivery', () => {
  let server: Server;
  const hooks: unknown[] = [];
  let failNext = 1;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (failNext-- > 0) {
          res.writeHead(503).end();
          return;
        }
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('tracks each receiver: delivered, started, finished, failed to sound, unreachable; and escalates the late ones', async () => {
    const user = u(`emergency-${P}`);
    const created = await call(
      'POST',
      '/alerts',
      user,
      draft({ status: 'Test', areas: undefined, polygons: [box(22.2995, 22.3045, 103.895, 103.905)] }),
    );
    const alert = created.json();
    const issued = await call('POST', `/alerts/${alert.id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const first = await deliveries(alert.id);
    expect(first.counts).toEqual({ pending: 3, unreachable: 2 });
    const commandFor = (id: string) =>
      (issued.json().commands as { id: string; topicTarget: string }[]).find((c) => c.topicTarget === `receiver:${id}`)
        ?.id;
    const [r0, r1, r2, r3, r4] = ids as [string, string, string, string, string];
    const airing = `${alert.identifier}.r0.0`;
    await report(r0, { type: 'ack', commandId: commandFor(r0), result: 'accepted' });
    await play(r0, airing, 'started');
    await play(r0, airing, 'finished');
    // A late, repeated acknowledgement cannot move it back.
    await report(r0, { type: 'ack', commandId: commandFor(r0), result: 'accepted' });
    await report(r1, { type: 'ack', commandId: commandFor(r1), result: 'accepted' });
    await play(r1, airing, 'failed');
    // A receiver that refuses the command (its clock is wrong) will not sound.
    await report(r2, { type: 'ack', commandId: commandFor(r2), result: 'refused', reason: 'expired' });
    // Another copy of a command it already took says nothing about it.
    await report(r3, { type: 'ack', commandId: commandFor(r3), result: 'refused', reason: 'replayed' });
    const now = stateOf(await deliveries(alert.id));
    expect(now).toEqual({ [r0]: 'finished', [r1]: 'failed', [r2]: 'failed', [r3]: 'unreachable', [r4]: 'unreachable' });
    expect((await deliveries(alert.id, user, '?late=true')).items.map((d) => d.receiverId)).toEqual([r3, r4]);
    expect(
      events
        .filter((e) => e.type === 'alert.delivery' && e.alertId === alert.id && e.receiverId === r0)
        .map((e) => (e as { state: string }).state),
    ).toEqual(['delivered', 'started', 'finished']);

    // Nothing is escalated before its time; afterwards, the receivers that never started, once.
    expect((await escalateLateAlerts(fx.db(), new Date())).find((e) => e.alertId === alert.id)).toBeUndefined();
    const jobs = await startEscalationJobs({
      db: fx.db(),
      redisUrl: loadControllerConfig().REDIS_URL,
      prefix: `test-${randomUUID()}`,
      everyMs: 200,
      webhookUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/escalations`,
      webhookBackoffMs: 100,
    });
    try {
      await fx.db().alert.update({ where: { id: alert.id }, data: { issuedAt: new Date(Date.now() - 61_000) } });
      const hook = (await until(() => hooks.find((h) => (h as { alertId: string }).alertId === alert.id), 15_000)) as {
        type: string;
        status: string;
        receivers: Array<{ receiverId: string; state: string }>;
      };
      // The webhook answered 503 first and was tried again.
      expect(hook).toMatchObject({ type: 'alert.escalation', status: 'Test' });
      expect(hook.receivers.map((r) => [r.receiverId, r.state])).toEqual([
        [r3, 'unreachable'],
        [r4, 'unreachable'],
      ]);
    } finally {
      await jobs.stop();
    }
    const escalated = await deliveries(alert.id);
    expect(escalated.items.filter((d) => d.escalatedAt).map((d) => d.receiverId)).toEqual([r3, r4]);
    expect(
      (await escalateLateAlerts(fx.db(), new Date(Date.now() + 3600_000))).find((e) => e.alertId === alert.id),
    ).toBeUndefined();
  });

  it('an Update replaces the alert in flight; cancel stops the whole chain on the same topics', async () => {
    const user = u(`emergency-${commune0}`);
    const created = await call('POST', '/alerts', user, draft({ status: 'Exercise', areas: [commune0], riskLevel: 3 }));
    const original = created.json();
    const issued = await call('POST', `/alerts/${original.id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);

    // Status never changes in an Update: an Exercise cannot become Actual.
    const sneaky = await call('POST', `/alerts/${original.id}/update`, user, { status: 'Actual' });
    expect(sneaky.statusCode).toBe(400);
    const updated = await call('POST', `/alerts/${original.id}/update`, user, {
      riskLevel: 4,
      headline: { vie: 'Lũ quét lên cấp 4' },
    });
    expect(updated.statusCode, updated.body).toBe(201);
    const update = updated.json();
    expect(update).toMatchObject({
      state: 'draft',
      status: 'Exercise',
      revision: 1,
      references: original.id,
      wireId: original.identifier,
      areas: [commune0],
    });
    expect(update.identifier).not.toBe(original.identifier);
    const sent = await call('POST', `/alerts/${update.id}/issue`, user);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(await command(sent.json().commands[0].id)).toMatchObject({
      kind: 'alert.issue',
      body: {
        alertId: original.identifier,
        revision: 1,
        riskLevel: 4,
        status: 'Exercise',
        headline: { vie: 'Lũ quét lên cấp 4' },
      },
    });
    expect((await call('GET', `/alerts/${original.id}`, user)).json()).toMatchObject({ state: 'updated' });
    expect((await call('POST', `/alerts/${original.id}/update`, user, { riskLevel: 5 })).statusCode).toBe(409);

    // The receiver playing revision 1 is stopped by the cancel (of any message of the chain).
    const r10 = ids[10] as string;
    await play(r10, `${original.identifier}.r1.0`, 'started');
    const cancelled = await call('POST', `/alerts/${original.id}/cancel`, user, { reason: 'diễn tập xong' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(await command(cancelled.json().commands[0].id)).toMatchObject({
      kind: 'alert.cancel',
      target: { type: 'area', areaCode: commune0 },
      body: { alertId: original.identifier },
    });
    await play(r10, `${original.identifier}.r1.0`, 'interrupted');
    expect(stateOf(await deliveries(update.id))[r10]).toBe('stopped');
    for (const id of [original.id, update.id])
      expect((await call('GET', `/alerts/${id}`, user)).json()).toMatchObject({ state: 'cancelled' });
    const audit = await fx
      .db()
      .auditLog.findMany({ where: { entity: 'alert', entityId: update.id }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['update', 'issue', 'cancel']);
  });
});
