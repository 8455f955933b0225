import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type AreaRef,
  CommandVerifier,
  generateSigningKey,
  ReplayGuard,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { ProvisionJobs } from '../src/dispatch/provision-jobs.js';
import { type Provisioner, type ProvisionTarget, targetKey } from '../src/dispatch/provisioner.js';
import { useFreshDatabase } from './support/database.js';

// The real controller (controller/src/server.ts, run by Node through tsx) is killed with
// SIGKILL while it provisions ~190 targets, then started again on the same PostgreSQL,
// Redis and broker. A test observer subscribed to every target's command topic sees what
// receivers would get; the database shows what the controller recorded.

const config = loadControllerConfig();
const database = useFreshDatabase();
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// Everything this test's controller touches is its own, so test files running in
// parallel on the same Redis and broker neither see nor disturb it: queue prefix,
// rate-limit counters, event channel, ingest group, issuer and signing key, and (renamed
// after seeding) the demo province's area codes and receiver ids, hence its topics.
const ns = `t${randomUUID().slice(0, 8)}`;
const queuePrefix = `test-${ns}`;
const issuer = `restart-${ns}`;
const tempDir = mkdtempSync(join(tmpdir(), 'loa-restart-'));
const keyFile = join(tempDir, 'signing-key.jwk');
const jwk = generateSigningKey();
writeFileSync(keyFile, JSON.stringify(jwk));
const keys = new TrustedKeySet([trustedKeyFor(jwk)]);

interface Target {
  /** As the provisioner records it: area:<id> or receiver:<id>. */
  key: string;
  topic: string;
  area?: AreaRef;
  receiverId?: string;
}
interface Seen {
  target: Target;
  id: string;
  seq: number;
  revision: number;
  titles: string[];
  itemIds: string[];
  payload: string;
  /** 1: before the kill, 2: after it, 3: once the second controller was started. */
  phase: 1 | 2 | 3;
}
interface Controller {
  child: ChildProcess;
  log: string[];
  url: Promise<string>;
  exited: Promise<void>;
}

let targets: Target[] = [];
let areaCodes: string[] = [];
let receiverIds: string[] = [];
let contentId: string;
let observer: MqttClient | undefined;
const seen: Seen[] = [];
const refused: string[] = [];
let phase: Seen['phase'] = 1;
let onProvision: (() => void) | undefined;
const controllers: Controller[] = [];
const queues: Queue[] = [];

/** A receiver's gate for one target's topic: signature, freshness, address, topic, replay. */
const receiverFor = (t: Target) =>
  new CommandVerifier({
    keys,
    receiverId: t.receiverId ?? 'observer',
    areas: t.area ? [t.area] : [],
    replay: new ReplayGuard(),
  });

/** Starts controller/src/server.ts in its own process, with this test's settings. */
function startController(): Controller {
  const child = spawn(process.execPath, ['--conditions', 'source', '--import', 'tsx', 'controller/src/server.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: database.url(),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0', // any free port, read back from the "listening" log line
      SIGNING_KEY_FILE: keyFile,
      COMMAND_ISSUER: issuer,
      QUEUE_PREFIX: queuePrefix,
      RATE_LIMIT_NAMESPACE: `${queuePrefix}-rate-limit-`,
      EVENTS_CHANNEL: `${queuePrefix}-events`,
      INGEST_GROUP: queuePrefix,
      EMQX_HOOK_TOKEN: '',
      // The seeded programmes stay text (this test is about dispatch, not speech).
      TTS_ENGINE: 'none',
      ASSET_DIR: join(tempDir, 'assets'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const keep = (line: string) => {
    log.push(line);
    if (log.length > 200) log.shift();
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not listen:\n${log.join('\n')}`)), 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      keep(line);
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      if (address) {
        clearTimeout(timer);
        resolve(address);
      }
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`controller exited before listening:\n${log.join('\n')}`));
    });
  });
  url.catch(() => {}); // awaited by the test; a rejection after it has moved on is not an error
  const controller = { child, log, url, exited };
  controllers.push(controller);
  return controller;
}

function queue(name: string, prefix = queuePrefix): Queue {
  const q = new Queue(name, { connection: { url: config.REDIS_URL, maxRetriesPerRequest: null }, prefix });
  queues.push(q);
  return q;
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  await db.$executeRaw`UPDATE "Area" SET code = CAST(${ns} AS text) || '-' || code,
    path = regexp_replace(path, '/([^/]+)', '/' || CAST(${ns} AS text) || '-\\1', 'g')`;
  await db.$executeRaw`UPDATE "Receiver" SET id = CAST(${ns} AS text) || '-' || id`;

  // Audio in Vietnamese, which every area of the province speaks, so every item is sent.
  const province = await db.area.findFirstOrThrow({ where: { level: 'province' } });
  const asset = { durationMs: 30_000, bytes: 90_000, format: 'ogg-opus', mime: 'audio/ogg; codecs=opus' };
  const content = await db.content.create({
    data: {
      title: 'Cảnh báo lũ quét',
      category: 'alert',
      ownerAreaId: province.id,
      variants: {
        create: [
          {
            language: 'vie',
            kind: 'audio',
            asset: { create: { sha256: randomUUID().replaceAll('-', '').repeat(2), ...asset } },
          },
        ],
      },
    },
  });
  contentId = content.id;

  const areas = await db.area.findMany({ select: { id: true, code: true, level: true } });
  const receivers = await db.receiver.findMany({ select: { id: true } });
  areaCodes = areas.map((a) => a.code);
  receiverIds = receivers.map((r) => r.id);
  targets = [
    ...areas.map((a) => ({
      key: `area:${a.id}`,
      topic: topics.areaCommand(a.level, a.code),
      area: { level: a.level, areaCode: a.code },
    })),
    ...receivers.map((r) => ({ key: `receiver:${r.id}`, topic: topics.receiverCommand(r.id), receiverId: r.id })),
  ];
  const byTopic = new Map(targets.map((t) => [t.topic, t]));

  observer = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  observer.on('message', (topic, payload) => {
    const target = byTopic.get(topic);
    if (!target) return;
    // Checked as a receiver would, each message on its own; replays are judged below.
    const result = receiverFor(target).verify(payload, topic);
    if (!result.ok) return void refused.push(`${topic}: ${result.reason} ${result.detail}`);
    const command = result.command;
    if (command.kind !== 'schedule.provision' || command.iss !== issuer)
      return void refused.push(`${topic}: unexpected ${command.kind} from ${command.iss}`);
    seen.push({
      target,
      id: command.id,
      seq: command.seq,
      revision: command.body.revision,
      titles: command.body.items.map((i) => i.title ?? ''),
      itemIds: command.body.items.map((i) => i.itemId),
      payload: payload.toString(),
      phase,
    });
    onProvision?.();
  });
  await observer.subscribeAsync(
    targets.map((t) => t.topic),
    { qos: 1 },
  );
}, 90_000);

afterAll(async () => {
  for (const c of controllers) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await c.exited;
  }
  await observer?.endAsync(true);
  for (const name of ['loa-provision', 'loa-horizon', 'loa-presence']) queue(name);
  queue('loa-provision', `${queuePrefix}-jobs`);
  for (const q of queues) {
    await q.obliterate({ force: true });
    await q.close();
  }
  // Whatever else the killed controller left under this test's prefixes (schedulers, counters).
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  for (const match of [`${queuePrefix}:*`, `${queuePrefix}-*`]) {
    for await (const batch of redis.scanStream({ match, count: 500 }))
      if ((batch as string[]).length > 0) await redis.del(...(batch as string[]));
  }
  redis.disconnect();
  rmSync(tempDir, { recursive: true, force: true });
});

const localIn = (ms: number) => new Date(Date.now() + ms + 7 * 3600_000).toISOString().slice(0, 19);

describe('a controller restart in the middle of dispatch', () => {
  it('loses and duplicates nothing', async () => {
    onTestFailed(() => {
      for (const [i, c] of controllers.entries())
        console.error(`--- controller run ${i + 1}, last lines ---\n${c.log.slice(-40).join('\n')}`);
    });
    const db = database.db();
    const first = startController();
    const base = await first.url;
    // The first start rolls the horizon once, re-provisioning every target; were that job
    // interrupted, the restarted controller would roll again and could hide a lost job.
    const horizon = queue('loa-horizon');
    await waitUntil(
      'the first horizon roll',
      async () => {
        const counts = await horizon.getJobCounts('waiting', 'active', 'prioritized', 'completed');
        return (counts.completed ?? 0) > 0 && !counts.waiting && !counts.active && !counts.prioritized;
      },
      20_000,
    );

    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'emergency-10', password: 'pw' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

    // Three warnings, each for every area of the province and every receiver in it: one
    // provisioning job per target (39 area topics, 150 receiver topics). The second and
    // third are made while the first is being dispatched, so they also change targets
    // whose job is running at that moment.
    const titles = [1, 2, 3].map((n) => `Lũ quét ${ns} (${n})`);
    const complete = (s: Seen) => titles.every((t) => s.titles.includes(t));
    const create = async (title: string, inMs: number) => {
      const response = await fetch(`${base}/schedules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({
          title,
          contentId,
          startLocal: localIn(inMs),
          durationMs: 60_000,
          priority: 'priority',
          startMode: 'next',
          volume: 100,
          targets: { areas: areaCodes, receivers: receiverIds },
          acceptConflicts: true,
        }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };

    // SIGKILL as soon as the observer holds complete provisions for a few targets: the
    // controller is then in the middle of the dispatch, jobs queued and one running.
    const killed = new Promise<void>((resolve) => {
      onProvision = () => {
        if (seen.filter(complete).length < 20) return;
        first.child.kill('SIGKILL');
        phase = 2;
        onProvision = undefined;
        resolve();
      };
    });
    const scheduleIds: string[] = [];
    for (const [i, title] of titles.entries()) scheduleIds.push(await create(title, (2 + i) * 3600_000));
    await killed;
    await first.exited;
    const provisionJobs = queue('loa-provision');
    const left = await provisionJobs.getJobCounts('waiting', 'active', 'prioritized');
    const completeBeforeKill = new Set(seen.filter((s) => s.phase === 1 && complete(s)).map((s) => s.target.key));
    // Mid-dispatch indeed: some targets had everything before the kill, work was left.
    expect(completeBeforeKill.size).toBeGreaterThan(0);
    expect(completeBeforeKill.size).toBeLessThan(targets.length);
    expect((left.waiting ?? 0) + (left.active ?? 0) + (left.prioritized ?? 0)).toBeGreaterThan(0);

    phase = 3;
    const second = startController();
    await second.url;
    const latest = (key: string) =>
      seen
        .filter((s) => s.target.key === key)
        .reduce<Seen | undefined>((a, s) => (a && a.revision > s.revision ? a : s), undefined);
    await waitUntil(
      'every target provisioned and the jobs of the killed controller done',
      async () => {
        if (!targets.every((t) => complete(latest(t.key) ?? ({ titles: [] } as unknown as Seen)))) return false;
        const counts = await provisionJobs.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
        return Object.values(counts).every((n) => n === 0);
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // would anything more arrive?

    // Nothing lost, as receivers see it: every target's newest revision carries exactly
    // the three warnings (the seeded programmes have no audio yet, so are not sent), and
    // it is the last provision that target received.
    const expectedItems = (await db.occurrence.findMany({ where: { scheduleId: { in: scheduleIds } } }))
      .map((o) => o.id)
      .sort();
    expect(expectedItems).toHaveLength(titles.length);
    expect(refused).toEqual([]);
    for (const t of targets) {
      const newest = latest(t.key) as Seen;
      expect([...newest.itemIds].sort(), t.topic).toEqual(expectedItems);
      expect(seen.filter((s) => s.target.key === t.key).at(-1)?.id, t.topic).toBe(newest.id);
    }
    // Some targets got them only from the restarted controller.
    const completeAfterRestart = seen.filter((s) => s.phase === 3 && complete(s)).map((s) => s.target.key);
    expect(completeAfterRestart.filter((k) => !completeBeforeKill.has(k)).length).toBeGreaterThan(0);

    // Nothing duplicated, as receivers see it. What we assert, and why:
    // - No sequence number of this issuer is carried by two different commands, no
    //   command id by two different payloads, no provision revision by two commands:
    //   a receiver drops a second command with a seq it has seen as a replay, so two
    //   different commands under one seq would make it miss one.
    // - The same command delivered twice (QoS 1 may) is allowed: a receiver drops the
    //   copy by id and seq. So is provisioning a target again after the restart (the
    //   killed controller had published it but not finished the job): that is a new
    //   command, new id, higher seq and revision, which replaces the older one.
    // - Hence a receiver per target, fed that target's messages in arrival order with one
    //   replay guard across both controller runs, accepts every distinct command and
    //   refuses nothing but identical repeats.
    const idBySeq = new Map<number, string>();
    const payloadById = new Map<string, string>();
    const idByRevision = new Map<number, string>();
    for (const s of seen) {
      expect(idBySeq.get(s.seq) ?? s.id, `seq ${s.seq}`).toBe(s.id);
      expect(payloadById.get(s.id) ?? s.payload, `command ${s.id}`).toBe(s.payload);
      expect(idByRevision.get(s.revision) ?? s.id, `revision ${s.revision}`).toBe(s.id);
      idBySeq.set(s.seq, s.id);
      payloadById.set(s.id, s.payload);
      idByRevision.set(s.revision, s.id);
    }
    for (const t of targets) {
      const receiver = receiverFor(t);
      const accepted = new Set<string>();
      for (const s of seen.filter((x) => x.target.key === t.key)) {
        const result = receiver.verify(s.payload, t.topic);
        if (result.ok) accepted.add(s.id);
        else
          expect({ reason: result.reason, repeat: accepted.has(s.id) }, t.topic).toEqual({
            reason: 'replayed',
            repeat: true,
          });
      }
    }

    // Nothing duplicated or left behind in PostgreSQL: one occurrence per schedule and
    // airtime, one delivery per occurrence and receiver (each receiver is reached here
    // through five targets: its province, district, commune, village and itself), every
    // delivery marked provisioned, every recorded provision really published, and each
    // target's provision recorded, including the one whose job the kill interrupted.
    const duplicateOccurrences = await db.$queryRaw<unknown[]>`
      SELECT "scheduleId", "startsAt" FROM "Occurrence" GROUP BY 1, 2 HAVING count(*) > 1`;
    const duplicateDeliveries = await db.$queryRaw<unknown[]>`
      SELECT "occurrenceId", "receiverId" FROM "Delivery" GROUP BY 1, 2 HAVING count(*) > 1`;
    expect(duplicateOccurrences).toEqual([]);
    expect(duplicateDeliveries).toEqual([]);
    const deliveries = await db.delivery.groupBy({
      by: ['occurrenceId', 'state'],
      where: { occurrenceId: { in: expectedItems } },
      _count: true,
    });
    expect(deliveries.map((d) => [d.occurrenceId, d.state, d._count]).sort()).toEqual(
      expectedItems.map((id) => [id, 'provisioned', receiverIds.length]),
    );
    const recorded = await db.dispatchedCommand.findMany({ where: { kind: 'schedule.provision' } });
    const published = new Set(seen.map((s) => s.id));
    expect(recorded.filter((r) => !published.has(r.id)).map((r) => r.targetKey)).toEqual([]);
    const unrecorded = targets.filter(
      (t) => !recorded.some((r) => r.targetKey === t.key && expectedItems.every((id) => r.occurrenceIds.includes(id))),
    );
    expect(unrecorded.map((t) => t.topic)).toEqual([]);
  }, 120_000);
});

describe('a change while its target is being provisioned', () => {
  it('runs that target once more afterwards, as the running job may have read the schedule before', async () => {
    // Found by the test above: with plain deduplication a change arriving while its
    // target's job ran was folded into that job, which had already built its provision.
    const jobs = new ProvisionJobs({ redisUrl: config.REDIS_URL, prefix: `${queuePrefix}-jobs` });
    const runs: string[] = [];
    let started = () => {};
    let release = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const provisioner = {
      async provision(target: ProvisionTarget) {
        runs.push(targetKey(target));
        if (runs.length === 1) {
          started();
          await gate;
        }
        return { commandId: randomUUID(), revision: runs.length, items: 0, withoutAudio: 0, provisioned: 0 };
      },
    } as unknown as Provisioner;
    try {
      jobs.work(provisioner);
      const target = { areaId: randomUUID() };
      const other = { areaId: randomUUID() };
      await jobs.enqueue([target]);
      await running; // the job has read the schedule
      await jobs.enqueue([target, other]); // a change to both
      await jobs.enqueue([target, other]); // and another: folded with the previous one
      release();
      await waitUntil('the runs', () => runs.length >= 3, 5000).catch(() => {}); // the expect below says what ran
      await new Promise((r) => setTimeout(r, 500));
      expect(runs.sort()).toEqual([targetKey(target), targetKey(target), targetKey(other)].sort());
    } finally {
      release();
      await jobs.close();
    }
  });
});
