import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  type AckEvent,
  type AssetRef,
  type CommandEnvelope,
  CommandSigner,
  decodeReceiverEvent,
  generateSigningKey,
  loadSigningKey,
  type PlayableItem,
  type ReceiverEvent,
  topicFilter,
  trustedKeyFor,
} from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishCommand } from '../../controller/src/dispatch/command-publisher.js';
import { TimeServer } from '../../controller/src/time-sync/time-server.js';
import { AssetServer } from '../../edge-agent/test/content/asset-server.js';
import { oggOpusFile, sine } from '../../edge-agent/test/support/ogg-opus-fixture.js';
import { PrivateBroker } from '../../edge-agent/test/support/private-broker.js';
import { FleetWorkerCrash, FleetWorkers, FleetWorkersError } from '../src/fleet/fleet-workers.js';
import type { PlayRecord } from '../src/fleet/recording-renderer.js';
import type { VirtualReceiverSpec } from '../src/fleet/virtual-receiver.js';

// 60 virtual receivers (real edge agents) over 3 worker processes, against a Mosquitto of
// the test's own, the controller's real time server and command publisher, and a small
// HTTP server with a real Ogg Opus file as the content source.
const run = randomUUID().slice(0, 6);
const jwk = generateSigningKey();
const key = loadSigningKey(jwk);
let seq = 0;
const signer = new CommandSigner({ issuer: 'fleet-workers-test', key, nextSeq: async () => ++seq });
let broker: PrivateBroker;
let timeServer: TimeServer;
let assets: AssetServer;
let asset: AssetRef;
let client: MqttClient;
let fleet: FleetWorkers | undefined;
const others: FleetWorkers[] = [];
const orphans: ChildProcess[] = [];
const started = Date.now();
const heard: PlayRecord[] = [];
let lastCommand: CommandEnvelope | undefined;
const progress: Array<[number, number]> = [];
/** Every receiver state and event seen on the broker, in order. */
const states: Array<{ receiverId: string; online: boolean; reason: string; bootId: string }> = [];
const events: ReceiverEvent[] = [];

const specs: VirtualReceiverSpec[] = Array.from({ length: 60 }, (_, i) => ({
  receiverId: `rx-fw-${run}-${String(i).padStart(2, '0')}`,
  areas: [
    { level: 'province', areaCode: '10' },
    { level: 'commune', areaCode: '02680' },
    { level: 'village', areaCode: `02680-0${i % 4}` },
  ],
  offsetMs: ((i * 137) % 3000) - 1500,
  driftPpm: (i % 7) * 10 - 30,
}));
const settings = () => ({
  mqttUrl: broker.url,
  controllerUrl: assets.url,
  trustedKeys: [trustedKeyFor(jwk)],
  heartbeatMs: 60_000,
});

async function until(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  for (let waited = 0; !(await check()) && waited < ms; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (!(await check())) throw new Error(`timed out waiting for ${what}`);
}

/** The process exists and has not exited (a zombie, reaped by nobody yet, has exited). */
function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

const lastState = (receiverId: string) => states.filter((s) => s.receiverId === receiverId).at(-1);

function item(itemId: string): PlayableItem {
  return {
    itemId,
    priority: 'normal',
    startMode: 'hard',
    volume: 80,
    repeat: 1,
    prelude: 'none',
    segments: [{ language: 'vie', sha256: asset.sha256, durationMs: asset.durationMs ?? 1000 }],
  };
}

beforeAll(async () => {
  broker = await PrivateBroker.start();
  assets = await AssetServer.start();
  const ogg = oggOpusFile(sine(440, 1));
  asset = assets.add(ogg.length, ogg);
  timeServer = new TimeServer({ mqttUrl: broker.url, key, group: `fw-${run}` });
  await timeServer.start();
  client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/state')) {
      const s = JSON.parse(payload.toString()) as (typeof states)[number];
      states.push({ receiverId: s.receiverId, online: s.online, reason: s.reason, bootId: s.bootId });
      return;
    }
    const event = decodeReceiverEvent(payload);
    if (event.ok) events.push(event.value);
  });
  await client.subscribeAsync([topicFilter('receiverState'), topicFilter('receiverEvents')], { qos: 1 });
}, 30_000);

afterAll(async () => {
  for (const child of orphans) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([fleet, ...others].map((f) => f?.stop()));
  await client?.endAsync();
  await timeServer?.stop();
  await assets?.close();
  await broker?.down();
});

describe('a virtual fleet over several worker processes', () => {
  it('starts 60 receivers over 3 processes; all come online and clock-synced', async () => {
    fleet = await FleetWorkers.start(specs, {
      processes: 3,
      settings: settings(),
      concurrency: 10,
      onPlay: (record) => heard.push(record),
      onProgress: (n, total) => progress.push([n, total]),
    });
    const pids = fleet.pids;
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(process.pid);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    expect(progress.at(-1)).toEqual([60, 60]);
    expect(progress).toHaveLength(60);
    // Dealt round-robin: 20 each.
    for (const pid of pids) expect(specs.filter((s) => fleet?.pidOf(s.receiverId) === pid)).toHaveLength(20);

    const f = fleet;
    await until(
      async () => {
        const s = await f.status();
        return s.online === 60 && s.synced === 60;
      },
      20_000,
      'all online and synced',
    );
    expect(await f.status({ syncedSince: started })).toEqual({
      receivers: 60,
      running: 60,
      poweredOff: 0,
      online: 60,
      synced: 60,
      syncedSince: 60,
      processes: 3,
    });
    // A clock sync is dated in true time: none has happened in the future.
    expect((await f.status({ syncedSince: Date.now() + 60_000 })).syncedSince).toBe(0);
  }, 30_000);

  it('plays a signed play.now sent to the commune on all 60; every record reaches the parent', async () => {
    const f = fleet as FleetWorkers;
    const command = await signer.sign({
      kind: 'play.now',
      target: { type: 'area', level: 'commune', areaCode: '02680' },
      body: { item: item(`now-${run}`), assets: [asset] },
      ttlMs: 60_000,
    });
    const sentAt = Date.now();
    await publishCommand(client, command);
    const finished = () => f.plays.filter((p) => p.itemId === `now-${run}` && p.result === 'finished');
    await until(() => finished().length === 60, 15_000, 'plays');
    expect(new Set(finished().map((p) => p.receiverId))).toEqual(new Set(specs.map((s) => s.receiverId)));
    for (const p of finished()) {
      expect(p.languages).toEqual(['vie']);
      expect(p.segments).toEqual([asset.sha256]);
      expect(p.startedAt).toBeGreaterThanOrEqual(sentAt);
      expect((p.endedAt as number) - (p.startedAt as number)).toBeGreaterThanOrEqual(900);
    }
    // onPlay hears each airing twice, a partial record at its first sound and the final one;
    // `plays` keeps one per airing, the final in the partial's place.
    const heardNow = heard.filter((p) => p.itemId === `now-${run}`);
    expect(heardNow.filter((p) => p.endedAt === undefined)).toHaveLength(60);
    expect(heardNow.filter((p) => p.endedAt !== undefined)).toHaveLength(60);
    expect(f.plays.filter((p) => p.itemId === `now-${run}`)).toHaveLength(60);
    lastCommand = command;
  }, 25_000);

  it('powers one receiver off, on, and cycles it from its store', async () => {
    const f = fleet as FleetWorkers;
    const target = (specs[7] as VirtualReceiverSpec).receiverId;
    const firstBoot = lastState(target)?.bootId;
    expect(lastState(target)).toMatchObject({ online: true, reason: 'connected' });

    await f.powerOff(target);
    expect(await f.status()).toMatchObject({ running: 59, poweredOff: 1, online: 59 });
    // A power cut says nothing: the broker sees the connection end and sends its last will.
    await until(() => lastState(target)?.online === false, 5000, 'offline state');
    expect(lastState(target)?.reason).toBe('last_will');
    await new Promise((r) => setTimeout(r, 300));
    expect((await f.status()).online).toBe(59);

    await f.powerOn(target);
    await f.powerOn(target); // on already: nothing
    await until(async () => (await f.status()).online === 60, 10_000, 'back online');
    await until(() => lastState(target)?.online === true, 5000, 'online state');
    const secondBoot = lastState(target)?.bootId;
    expect(secondBoot).not.toBe(firstBoot);

    await f.powerCycle(target);
    await until(() => lastState(target)?.online === true && lastState(target)?.bootId !== secondBoot, 10_000, 'cycled');
    expect(states.filter((s) => s.receiverId === target && s.reason === 'last_will')).toHaveLength(2);
    expect(states.filter((s) => s.receiverId === target && s.reason === 'rebooting')).toHaveLength(0);
    await until(async () => (await f.status()).online === 60, 10_000, 'all online');

    // It came back from its store: the command it played before is refused as replayed.
    const command = lastCommand as CommandEnvelope;
    await publishCommand(client, command);
    const refused = () =>
      events.filter(
        (e): e is AckEvent =>
          e.type === 'ack' && e.receiverId === target && e.commandId === command.id && e.result === 'refused',
      );
    await until(() => refused().length > 0, 10_000, 'replay refusal');
    expect(refused()[0]?.reason).toBe('replayed');
    expect(f.plays.filter((p) => p.itemId === `now-${run}`)).toHaveLength(60);

    await expect(f.powerCycle('rx-not-in-this-fleet')).rejects.toThrow(/no receiver/);
  }, 40_000);

  it('reports each process’s memory', async () => {
    const f = fleet as FleetWorkers;
    const memory = await f.memory();
    expect(memory.map((m) => m.pid).sort()).toEqual([...f.pids].sort());
    expect(memory.reduce((n, m) => n + m.receivers, 0)).toBe(60);
    for (const m of memory) {
      expect(m.receivers).toBe(20);
      expect(m.rssBytes).toBeGreaterThan(m.heapUsedBytes);
      expect(m.heapUsedBytes).toBeGreaterThan(0);
      expect(m.cpuUserMicros).toBeGreaterThan(0);
    }
  });

  it('runs raw MQTT subscribers in the workers as a baseline; each gets the message once', async () => {
    const f = fleet as FleetWorkers;
    const topic = `loa-test/raw/${run}`;
    const raw = await f.rawSubscribers(topic, 31, broker.url);
    expect(raw.subscribed).toBe(31);
    const sentAt = Date.now();
    await client.publishAsync(topic, 'ping', { qos: 1 });
    await until(async () => (await raw.arrivals()).length >= 31, 10_000, 'raw arrivals');
    await new Promise((r) => setTimeout(r, 200));
    const arrivals = await raw.arrivals();
    expect(arrivals).toHaveLength(31);
    for (const at of arrivals) expect(at).toBeGreaterThanOrEqual(sentAt);
    await raw.close();
    await expect(raw.arrivals()).rejects.toThrow(/no raw probe/);
  });

  it('stops: every receiver says goodbye, and no worker process is left', async () => {
    const f = fleet as FleetWorkers;
    const pids = f.pids;
    await f.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await until(() => specs.every((s) => lastState(s.receiverId)?.reason === 'shutdown'), 5000, 'goodbyes');
    await f.stop(); // twice: nothing
    await expect(f.status()).rejects.toThrow(/stopped/);
  }, 40_000);

  it('reports a worker that dies (SIGKILL): pending calls reject, status throws, the rest stops cleanly', async () => {
    const crashes: FleetWorkerCrash[] = [];
    const small = specs.slice(0, 4).map((s) => ({ ...s, receiverId: s.receiverId.replace('rx-fw', 'rx-fc') }));
    const f = await FleetWorkers.start(small, {
      processes: 2,
      settings: settings(),
      onCrash: (crash) => crashes.push(crash),
    });
    others.push(f);
    const victimReceiver = (small[0] as VirtualReceiverSpec).receiverId;
    const victim = f.pidOf(victimReceiver) as number;
    const survivor = f.pids.find((p) => p !== victim) as number;
    // Frozen first, so the call below is surely pending when the worker dies.
    process.kill(victim, 'SIGSTOP');
    const pending = f.status();
    await new Promise((r) => setTimeout(r, 100));
    process.kill(victim, 'SIGKILL');
    await expect(pending).rejects.toThrow(FleetWorkersError);
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ pid: victim, signal: 'SIGKILL' });
    expect([...(crashes[0]?.receiverIds ?? [])].sort()).toEqual(
      small.filter((s) => f.pidOf(s.receiverId) === victim).map((s) => s.receiverId),
    );
    expect(f.crashes).toEqual(crashes);
    await expect(f.status()).rejects.toThrow(/1 fleet worker\(s\) crashed, 2 receivers lost/);
    await expect(f.powerCycle(victimReceiver)).rejects.toThrow(FleetWorkerCrash);
    await expect(f.memory()).rejects.toThrow(FleetWorkersError);
    await f.stop();
    expect(alive(victim)).toBe(false);
    expect(alive(survivor)).toBe(false);
  }, 30_000);

  it('leaves no worker behind when the parent exits without stop, or is killed outright', async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const module = new URL('../src/fleet/fleet-workers.ts', import.meta.url).href;
    const parent = (mode: 'exit' | 'hang', n: number) => {
      const code = `
        const { FleetWorkers } = await import(${JSON.stringify(module)});
        const specs = ${JSON.stringify(specs.slice(0, 2).map((s) => ({ ...s, receiverId: `${s.receiverId}-p${n}` })))};
        const fleet = await FleetWorkers.start(specs, { processes: 1, settings: ${JSON.stringify(settings())} });
        process.stdout.write(JSON.stringify(fleet.pids) + '\\n');
        if (${JSON.stringify(mode)} === 'exit') process.exit(0);
        setInterval(() => {}, 1000);`;
      const child = spawn(
        process.execPath,
        ['--conditions=source', '--import', tsx, '--input-type=module', '--eval', code],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      orphans.push(child);
      return new Promise<{ child: ChildProcess; pids: number[] }>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve({ child, pids: JSON.parse(out) as number[] });
        });
        child.once('exit', (c) => {
          if (!out.includes('\n')) reject(new Error(`parent exited (${c}) before starting its fleet`));
        });
      });
    };
    const [exiting, killed] = await Promise.all([parent('exit', 1), parent('hang', 2)]);
    expect(exiting.pids).toHaveLength(1);
    expect(killed.pids).toHaveLength(1);
    for (const pid of killed.pids) expect(alive(pid)).toBe(true);
    killed.child.kill('SIGKILL');
    // The exiting parent kills its workers as it exits; a killed parent's workers see the
    // IPC channel close and leave by themselves, after their goodbyes.
    await until(() => [...exiting.pids, ...killed.pids].every((pid) => !alive(pid)), 8000, 'workers gone');
  }, 30_000);
});
