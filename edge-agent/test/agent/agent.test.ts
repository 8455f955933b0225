import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AssetRef, type PlayEvent, type ScheduledItem, topics } from '@loa/protocols';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.js';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { systemClock } from '../../src/hardware/system-clock.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { PrivateBroker } from '../support/private-broker.js';
import { TestController } from '../support/test-controller.js';

// The real agent against a Mosquitto of its own (so the test can stop it) and a small
// test controller speaking the real protocol. Real time: airtimes are seconds ahead.
let broker: PrivateBroker;
let controller: TestController;
let assets: Server;
let asset: AssetRef;
let assetBytes: Buffer;
const agents: Agent[] = [];

const AREAS = [
  { level: 'province' as const, areaCode: '10' },
  { level: 'commune' as const, areaCode: '02680' },
  { level: 'village' as const, areaCode: '02680-01' },
];
const VILLAGE = { type: 'area' as const, level: 'village' as const, areaCode: '02680-01' };

beforeAll(async () => {
  broker = await PrivateBroker.start();
  controller = await TestController.connect(broker.url);
  assetBytes = randomBytes(30_000);
  const sha256 = createHash('sha256').update(assetBytes).digest('hex');
  asset = {
    sha256,
    url: `/assets/${sha256}`,
    bytes: assetBytes.length,
    durationMs: 1000,
    mime: 'audio/ogg; codecs=opus',
  };
  assets = createServer((request, response) => {
    if (request.url === asset.url) response.end(assetBytes);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => assets.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

afterAll(async () => {
  await controller?.close();
  await broker?.down();
  await new Promise<void>((resolve) => assets?.close(() => resolve()));
});

async function startAgent(storage = new MemoryStorage()) {
  const receiverId = `rx-agent-${randomUUID().slice(0, 8)}`;
  const config = parseAgentConfig(
    {
      receiverId,
      areas: AREAS,
      trustedKeys: [controller.trusted],
      audio: { sink: 'null' },
      health: { heartbeatMs: 60_000, firmwareFile: '/nonexistent' },
      clockSync: { samples: 2 },
    },
    '/tmp',
    { MQTT_URL: broker.url, CONTROLLER_URL: `http://127.0.0.1:${(assets.address() as AddressInfo).port}` },
  );
  let renderer: TimedRenderer | undefined;
  const agent = await Agent.start({
    config,
    clock: systemClock,
    storage,
    renderer: ({ readAsset }) => {
      renderer = new TimedRenderer(systemClock, undefined, readAsset);
      return renderer;
    },
    board: {
      temperatureC: async () => 45,
      power: async () => ({ mains: true }),
      disk: async () => ({ freeBytes: 1e9, totalBytes: 2e9 }),
      reboot: async () => {},
    },
    modem: { read: async () => ({ type: '4g', rssiDbm: -80 }) },
    reconnect: { baseMs: 100, capMs: 500 },
    reportResendMs: 2000,
  });
  agents.push(agent);
  await controller.until(() => agent.link.connected);
  return { agent, receiverId, storage, renderer: () => renderer as TimedRenderer };
}

const scheduled = (itemId: string, startAt: number, over: Partial<ScheduledItem> = {}): ScheduledItem => ({
  itemId,
  priority: 'normal',
  startMode: 'hard',
  volume: 80,
  repeat: 1,
  prelude: 'none',
  segments: [{ language: 'vie', sha256: asset.sha256, durationMs: 1000 }],
  startAt,
  endBy: startAt + 60_000,
  ...over,
});
const plays = (receiverId: string, itemId: string) =>
  controller.distinct((e) => e.receiverId === receiverId && e.type === 'play' && e.itemId === itemId) as PlayEvent[];

describe('edge agent', () => {
  it('plays a provisioned item on time with the broker down at airtime; proof of play arrives afterwards, once', async () => {
    const { agent, receiverId } = await startAgent();
    const airtime = Date.now() + 2500;
    const command = await controller.send('schedule.provision', VILLAGE, {
      revision: 1,
      horizonStart: Date.now(),
      horizonEnd: Date.now() + 86_400_000,
      items: [scheduled('occ-1', airtime)],
      assets: [asset],
    });
    await controller.until(() =>
      controller.events.some((e) => e.type === 'ack' && e.commandId === command.id && e.result === 'accepted'),
    );
    await controller.until(() => agent.cache.has(asset.sha256));
    await broker.down();
    await new Promise((r) => setTimeout(r, airtime + 1500 - Date.now()));
    expect(agent.link.connected).toBe(false);
    expect(plays(receiverId, 'occ-1')).toEqual([]);
    expect(agent.outbox.size).toBeGreaterThanOrEqual(2); // started and finished wait in the outbox
    await broker.up();
    await controller.until(() => plays(receiverId, 'occ-1').length === 2, 15_000);
    const [started, finished] = plays(receiverId, 'occ-1').sort((a, b) => a.at - b.at);
    expect(started).toMatchObject({ state: 'started', scheduledAt: airtime, language: 'vie' });
    expect(finished).toMatchObject({ state: 'finished', playedMs: expect.any(Number) });
    expect(Math.abs((started as PlayEvent).at - airtime)).toBeLessThan(300);
    // Receipted: the outbox empties, and nothing is reported twice under different ids.
    await controller.until(() => agent.outbox.size === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(plays(receiverId, 'occ-1')).toHaveLength(2);
  }, 40_000);

  it('refuses forged, replayed, expired and mis-targeted commands with the reason, and plays none of them', async () => {
    const { agent, receiverId } = await startAgent();
    const me = { type: 'receiver' as const, receiverId };
    const item = (id: string) => ({
      item: { ...scheduled(id, 0), startAt: undefined, endBy: undefined },
      assets: [asset],
    });
    const body = (id: string) => {
      const { startAt: _s, endBy: _e, ...playable } = item(id).item;
      return { item: playable, assets: [asset] };
    };
    const good = await controller.send('play.now', me, body('ok-1'));
    const forged = await controller.signer.sign({ kind: 'play.now', target: me, body: body('forged'), ttlMs: 60_000 });
    (forged.body as { item: { priority: string } }).item.priority = 'emergency';
    await controller.client.publishAsync(
      `${(await import('@loa/protocols')).topics.receiverCommand(receiverId)}`,
      JSON.stringify(forged),
      { qos: 1 },
    );
    await controller.client.publishAsync(
      (await import('@loa/protocols')).topics.receiverCommand(receiverId),
      JSON.stringify(good),
      { qos: 1 },
    );
    await controller
      .send('play.now', { type: 'receiver', receiverId: 'rx-someone-else' }, body('elsewhere'))
      .catch(() => {});
    await controller.send('play.now', { type: 'area', level: 'commune', areaCode: '02683' }, body('other-commune'));
    const expired = await controller.signer.sign({
      kind: 'play.now',
      target: me,
      body: body('expired'),
      ttlMs: 60_000,
      notBefore: Date.now() - 3_600_000,
    } as never);
    await controller.client.publishAsync(
      (await import('@loa/protocols')).topics.receiverCommand(receiverId),
      JSON.stringify(expired),
      { qos: 1 },
    );
    const refusals = () =>
      controller.distinct((e) => e.receiverId === receiverId && e.type === 'ack' && e.result === 'refused');
    await controller.until(() => refusals().length >= 3);
    expect(
      refusals()
        .map((e) => (e as { reason: string }).reason)
        .sort(),
    ).toEqual(['bad_signature', 'expired', 'replayed']);
    await controller.until(() => plays(receiverId, 'ok-1').some((e) => e.state === 'finished'));
    for (const id of ['forged', 'elsewhere', 'other-commune', 'expired']) expect(plays(receiverId, id)).toEqual([]);
    expect(agent.intake.stats.accepted).toBe(1);
  }, 30_000);

  it('lets an emergency pre-empt a normal item, which is reported interrupted', async () => {
    const { receiverId } = await startAgent();
    const start = Date.now() + 800;
    await controller.send('schedule.provision', VILLAGE, {
      revision: 2,
      horizonStart: Date.now(),
      horizonEnd: Date.now() + 86_400_000,
      items: [scheduled('news', start, { segments: [{ language: 'vie', sha256: asset.sha256, durationMs: 5000 }] })],
      assets: [asset],
    });
    await controller.until(() => plays(receiverId, 'news').some((e) => e.state === 'started'));
    const { startAt: _s, endBy: _e, ...flood } = scheduled('flood', 0, { priority: 'emergency', prelude: 'none' });
    await controller.send('play.now', { type: 'receiver', receiverId }, { item: flood, assets: [asset] });
    await controller.until(() => plays(receiverId, 'flood').some((e) => e.state === 'finished'));
    expect(plays(receiverId, 'news').find((e) => e.state === 'interrupted')).toMatchObject({ interruptedBy: 'flood' });
  }, 30_000);

  it('refuses a corrupted asset at airtime and downloads it again', async () => {
    const { agent, receiverId, storage } = await startAgent();
    const airtime = Date.now() + 1500;
    await controller.send('schedule.provision', VILLAGE, {
      revision: 3,
      horizonStart: Date.now(),
      horizonEnd: Date.now() + 86_400_000,
      items: [scheduled('damaged', airtime), scheduled('later', airtime + 2500)],
      assets: [asset],
    });
    await controller.until(() => agent.cache.has(asset.sha256));
    const bytes = (await storage.read(`assets/${asset.sha256}`)) as Buffer;
    bytes[10] = (bytes[10] as number) ^ 0xff;
    await storage.writeAtomic(`assets/${asset.sha256}`, bytes);
    await controller.until(() => plays(receiverId, 'damaged').length > 0, 10_000);
    expect(plays(receiverId, 'damaged')[0]).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/asset_missing/),
    });
    await controller.until(() => plays(receiverId, 'later').some((e) => e.state === 'finished'), 10_000);
    expect(
      controller.distinct((e) => e.receiverId === receiverId && e.type === 'cache' && e.state === 'failed'),
    ).toHaveLength(1);
  }, 30_000);
});

describe('remote actions', () => {
  it('sets the volume, sends its logs, reloads and re-checks its audio, and says what it cannot do', async () => {
    const { agent, receiverId, storage } = await startAgent();
    const me = { type: 'receiver' as const, receiverId };
    const acks = (commandId: string) =>
      controller
        .distinct((e) => e.type === 'ack' && e.commandId === commandId)
        .map((e) => (e as { result: string }).result);
    const volume = await controller.send('device.volume', me, { volume: 35 });
    await controller.until(() => acks(volume.id).includes('done'));
    expect(agent.status()).toMatchObject({ connected: true });
    expect((await storage.read('volume.json'))?.toString()).toBe('35');

    const logsTopic = topics.receiverLogs(receiverId);
    await controller.client.subscribeAsync(logsTopic, { qos: 1 });
    const logs = await controller.send('device.logs', me, { maxLines: 5 });
    await controller.until(() => controller.messages.some((m) => m.topic === logsTopic));
    const sent = JSON.parse(
      (controller.messages.find((m) => m.topic === logsTopic) as { payload: Buffer }).payload.toString(),
    );
    expect(sent).toMatchObject({ receiverId, commandId: logs.id });
    expect(sent.lines.length).toBeGreaterThan(0);
    expect(sent.lines.length).toBeLessThanOrEqual(5);

    await controller.send('schedule.provision', VILLAGE, {
      revision: 10,
      horizonStart: Date.now(),
      horizonEnd: Date.now() + 86_400_000,
      items: [scheduled('tomorrow', Date.now() + 86_000_000)],
      assets: [asset],
    });
    await controller.until(() => agent.cache.has(asset.sha256));
    const bytes = (await storage.read(`assets/${asset.sha256}`)) as Buffer;
    bytes[5] = (bytes[5] as number) ^ 0xff;
    await storage.writeAtomic(`assets/${asset.sha256}`, bytes);
    const reload = await controller.send('device.reload', me, {});
    await controller.until(() => acks(reload.id).includes('done'));
    await controller.until(
      () =>
        controller.distinct((e) => e.receiverId === receiverId && e.type === 'cache' && e.state === 'failed').length ===
        1,
    );
    await controller.until(() => agent.cache.has(asset.sha256));
    expect((await agent.cache.read(asset.sha256))?.equals(assetBytes)).toBe(true);

    const silent = await controller.send('device.test', me, { mode: 'silent' });
    await controller.until(() => acks(silent.id).includes('failed'));
    const update = await controller.send('device.update', me, {
      version: '9',
      url: '/x',
      sha256: asset.sha256,
      bytes: 1,
    });
    await controller.until(() => acks(update.id).includes('failed'));
    expect(
      controller.distinct((e) => e.type === 'ack' && e.commandId === update.id && e.result === 'failed')[0],
    ).toMatchObject({ detail: expect.stringMatching(/not supported/) });
  }, 30_000);
});

describe('start-up from a damaged store', () => {
  it('starts with a damaged faults file (set aside, storage_error raised) and keeps a saved volume of 0', async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic('faults.json', '["overheat", tr');
    await storage.writeAtomic('volume.json', '0');
    const { agent } = await startAgent(storage);
    const telemetry = await agent.heartbeat.beat();
    expect(telemetry.audio.volume).toBe(0);
    expect(telemetry.faults).toContain('storage_error');
    expect((await storage.list('')).some((n) => n.startsWith('faults.json.corrupt-'))).toBe(true);
  }, 20_000);
});
