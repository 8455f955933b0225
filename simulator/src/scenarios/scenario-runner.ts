import { availableParallelism } from 'node:os';
import { oggOpusFile, sine } from '@loa/edge-agent';
import type { PlayRecord } from '../fleet/recording-renderer.js';
import type { VirtualReceiverSpec } from '../fleet/virtual-receiver.js';
import { waitFor } from '../harness/free-port.js';
import { System } from '../harness/system.js';
import { summarise } from '../metrics/latency.js';
import { duplicatePlays, startLatencies, startSkews } from '../metrics/play-analysis.js';
import type { ControllerRegistry } from '../registry/controller-registry.js';
import { type Evaluation, evaluate, type RunState } from './expectations.js';
import { durationMs } from './load-scenario.js';
import { scenarioActions, sleep } from './scenario-actions.js';
import type { Scenario } from './scenario-schema.js';
import { WireObserver } from './wire-observer.js';

/** What a scenario needs of a fleet: the in-process one and the multi-process one both give it. */
export interface ScenarioFleet {
  readonly plays: readonly PlayRecord[];
  status(options?: {
    syncedSince?: number;
  }): Promise<{ receivers: number; online: number; synced: number; syncedSince?: number }>;
  powerOff(receiverId: string): Promise<void>;
  powerOn(receiverId: string): Promise<void>;
  memory?(): Promise<Array<{ rssBytes: number; receivers: number }>>;
  stop(): Promise<void>;
}

export interface FleetRequest {
  specs: VirtualReceiverSpec[];
  mqttUrl: string;
  controllerUrl: string;
  trustedKeys: Awaited<ReturnType<ControllerRegistry['trustedKeys']>>;
  heartbeatMs: number;
  processes: number;
  onProgress: (started: number, total: number) => void;
}

/** Network faults between receivers and broker; the fault proxy gives it. */
export interface NetworkFaults {
  readonly url: string;
  apply(selector: 'all' | { receivers?: string[]; areas?: string[] }, conditions: Record<string, unknown>): number;
  lift(ruleId?: number): void;
  close(): Promise<void>;
}

export interface RunHooks {
  startFleet: (request: FleetRequest) => Promise<ScenarioFleet>;
  startProxy?: (brokerPort: number, areasOf: (id: string) => readonly string[]) => Promise<NetworkFaults>;
  /** Phase changes and progress, for a progress bar or a log. */
  progress?: (event: { phase: string; done: number; total: number; detail?: string }) => void;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  expectations: Evaluation[];
  metrics: Record<string, unknown>;
  receivers: number;
  durationMs: number;
  error?: string;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs one scenario on a system of its own: fresh database and broker, the real
 * controller process, a fleet of real agents; then the timeline, then the expectations,
 * checked against what receivers did (their recorded sound) and said (the wire, the
 * controller's records). Everything is stopped afterwards, whatever happened.
 */
export async function runScenario(scenario: Scenario, hooks: RunHooks): Promise<ScenarioResult> {
  const began = Date.now();
  const log = hooks.log ?? (() => {});
  const progress = hooks.progress ?? (() => {});
  const demo = scenario.province === 'demo';
  const stops: Array<() => Promise<unknown>> = [];
  const background: Array<Promise<unknown>> = [];
  try {
    progress({ phase: 'system', done: 0, total: 1 });
    const system = await System.start({
      province: scenario.province === 'demo' ? { demo: true } : scenario.province,
      brokerAuth: scenario.fleet?.credentials === true,
      ...(scenario.speech && scenario.speech !== 'none' ? { controllerEnv: { TTS_ENGINE: scenario.speech } } : {}),
      log,
    });
    stops.push(() => system.stop());
    const users = demo
      ? { admin: 'admin', technician: 'technician-10' }
      : { admin: 'admin-lp', technician: 'technician-lp' };
    const registry = await system.as(users.technician);
    const areas = await registry.areas();
    const areaByCode = new Map(areas.map((a) => [a.code, a]));
    const fleetOptions = scenario.fleet ?? {};
    let specs = await registry.receivers();
    const positions = await registry.positions();
    const registryReceivers = specs.map((s) => ({
      receiverId: s.receiverId,
      areaCodes: s.areas.map((a) => a.areaCode),
      position: positions.get(s.receiverId),
    }));
    if (fleetOptions.areas) {
      const wanted = new Set(fleetOptions.areas);
      specs = specs.filter((s) => s.areas.some((a) => wanted.has(a.areaCode)));
    }
    if (fleetOptions.max) specs = specs.slice(0, fleetOptions.max);
    if (specs.length === 0) throw new Error('the fleet is empty: no receiver under fleet.areas');
    const offset = fleetOptions.clockOffsetMs ?? 0;
    const drift = fleetOptions.driftPpm ?? 0;
    specs = specs.map((s) => ({
      ...s,
      ...(system.receiverPasswords.has(s.receiverId) ? { password: system.receiverPasswords.get(s.receiverId) } : {}),
      offsetMs: Math.round((Math.random() * 2 - 1) * offset),
      driftPpm: (Math.random() * 2 - 1) * drift,
    }));
    const areasOf = new Map(specs.map((s) => [s.receiverId, s.areas.map((a) => a.areaCode)]));
    const needsProxy = fleetOptions.viaProxy === true || (scenario.timeline ?? []).some((step) => 'network' in step);
    let proxy: NetworkFaults | undefined;
    if (needsProxy) {
      if (!hooks.startProxy) throw new Error('this scenario needs the fault proxy, which this runner was not given');
      proxy = await hooks.startProxy(system.broker.port, (id) => areasOf.get(id) ?? []);
      stops.unshift(() => (proxy as NetworkFaults).close());
    }
    const observer = await WireObserver.start(system.observerUrl);
    stops.unshift(() => observer.close());

    progress({ phase: 'fleet', done: 0, total: specs.length });
    const fleetStarted = Date.now();
    const fleet = await hooks.startFleet({
      specs,
      mqttUrl: proxy?.url ?? system.broker.url,
      controllerUrl: system.controller.url,
      trustedKeys: await registry.trustedKeys(),
      heartbeatMs: durationMs(fleetOptions.heartbeat ?? '10s'),
      processes: fleetOptions.processes ?? Math.min(availableParallelism(), Math.ceil(specs.length / 100)),
      onProgress: (n, total) => progress({ phase: 'fleet', done: n, total }),
    });
    stops.unshift(() => fleet.stop());
    const ready = await waitFor(
      async () => {
        const s = await fleet.status();
        progress({ phase: 'online', done: Math.min(s.online, s.synced), total: specs.length });
        return s.online === specs.length && s.synced === specs.length;
      },
      60_000 + specs.length * 20,
      250,
    );
    if (!ready)
      throw new Error(`the fleet did not come online and clock-synced: ${JSON.stringify(await fleet.status())}`);
    const fleetReadyMs = Date.now() - fleetStarted;
    log(`fleet: ${specs.length} receivers online and synced in ${fleetReadyMs} ms`);

    // Audio and content, through the API as officials would make them.
    const admin = await system.as(users.admin);
    const audio = new Map<string, { sha256: string; durationMs: number }>();
    for (const a of scenario.audio ?? [])
      audio.set(a.id, await admin.uploadAsset(oggOpusFile(sine(a.tone.hz, a.tone.seconds, 0.4))));
    const clients = new Map<string, ControllerRegistry>([[users.admin, admin]]);
    const as = async (username: string) => {
      let client = clients.get(username);
      if (!client) {
        client = await system.as(username);
        clients.set(username, client);
      }
      return client;
    };
    const content = new Map<string, { id: string; durationMs: number; firstSha: string; languages: string[] }>();
    for (const c of scenario.content ?? []) {
      const variants = Object.entries(c.variants).map(([language, audioId]) => {
        const asset = audio.get(audioId);
        if (!asset) throw new Error(`content ${c.id}: no audio "${audioId}" in the scenario's audio list`);
        return { language, assetSha256: asset.sha256, durationMs: asset.durationMs };
      });
      const created = await (await as(c.as)).post<{ id: string }>('/content', {
        title: c.title,
        category: 'announcement',
        ownerArea: c.owner,
        variants: variants.map(({ language, assetSha256 }) => ({ language, assetSha256 })),
      });
      content.set(c.id, {
        id: created.id,
        durationMs: variants.reduce((sum, v) => sum + v.durationMs, 0),
        firstSha: variants[0]?.assetSha256 as string,
        languages: variants.map((v) => v.language),
      });
    }

    const state: RunState = {
      t0: Date.now(),
      fleet,
      specs,
      areaByCode,
      items: new Map(),
      forged: new Map(),
      powerLosses: [],
      impaired: [],
      observer,
      admin,
      reconnects: [],
      contentLanguages: new Map([...content].map(([id, c]) => [id, c.languages])),
      cancels: new Map(),
      alerts: new Map(),
      registry: registryReceivers,
      speech: new Map(),
    };
    const actOn = scenarioActions({
      scenarioName: scenario.name,
      speech: scenario.speech ?? 'none',
      state,
      system,
      proxy,
      observer,
      admin,
      as,
      content,
      audio,
      background,
      log,
    });
    const steps = [...(scenario.timeline ?? [])].sort((a, b) => durationMs(a.at) - durationMs(b.at));
    const lastStep = steps.length ? durationMs(steps[steps.length - 1]?.at ?? 0) : 0;
    const timeoutMs = durationMs(scenario.timeout ?? DEFAULT_TIMEOUT_MS);
    const deadline = began + timeoutMs;
    for (const [i, step] of steps.entries()) {
      const at = state.t0 + durationMs(step.at);
      while (Date.now() < at) {
        progress({ phase: 'timeline', done: Date.now() - state.t0, total: Math.max(lastStep, 1) });
        await sleep(Math.min(250, at - Date.now()));
      }
      progress({ phase: 'timeline', done: durationMs(step.at), total: Math.max(lastStep, 1), detail: `step ${i + 1}` });
      await actOn(step);
    }

    // Expectations: checked until each is decided, or the scenario's time is up.
    let evaluations: Evaluation[] = [];
    for (;;) {
      evaluations = await Promise.all(scenario.expect.map((e) => evaluate(e, state, Date.now())));
      const decided = evaluations.filter((e) => e.status !== 'pending').length;
      progress({ phase: 'expectations', done: decided, total: evaluations.length });
      if (decided === evaluations.length || Date.now() > deadline) break;
      await sleep(500);
    }
    evaluations = evaluations.map((e) =>
      e.status === 'pending'
        ? { ...e, status: 'fail', detail: `not decided when the scenario's time ran out: ${e.detail}` }
        : e,
    );
    await Promise.race([Promise.allSettled(background), sleep(1000)]);
    const metrics = {
      fleetReadyMs,
      ...(await collectMetrics(state)),
      controllerRssBytes: system.controller.rssBytes(),
      fleetMemory: (await fleet.memory?.()) ?? null,
    };
    return {
      name: scenario.name,
      passed: evaluations.every((e) => e.status === 'pass'),
      expectations: evaluations,
      metrics,
      receivers: specs.length,
      durationMs: Date.now() - began,
    };
  } catch (error) {
    return {
      name: scenario.name,
      passed: false,
      expectations: [],
      metrics: {},
      receivers: 0,
      durationMs: Date.now() - began,
      error: (error as Error).stack ?? String(error),
    };
  } finally {
    for (const stop of stops) await stop().catch((e: unknown) => log(`stopping: ${(e as Error).message}`));
  }
}

async function collectMetrics(state: RunState): Promise<Record<string, unknown>> {
  const villageOf = new Map(state.specs.map((s) => [s.receiverId, s.areas[s.areas.length - 1]?.areaCode ?? '']));
  const items: Record<string, unknown> = {};
  for (const [id, item] of state.items) {
    const latencies = startLatencies(state.fleet.plays, item.itemId, item.reference);
    const firsts = state.fleet.plays.filter(
      (p) => p.itemId === item.itemId && p.startedAt !== undefined && p.startedAtControllerTime !== undefined,
    );
    items[id] = {
      itemId: item.itemId,
      started: latencies.length,
      expected: item.expected.length,
      startLatency: summarise(latencies.map((l) => Math.max(0, l))),
      earliestMs: latencies.length ? Math.min(...latencies) : null,
      // Start error split: the clock sync's error, and how late the receiver was by its own clock.
      clockError: summarise(
        firsts.map((p) => Math.abs((p.startedAt as number) - (p.startedAtControllerTime as number))),
      ),
      lateness: summarise(firsts.map((p) => Math.max(0, (p.startedAtControllerTime as number) - item.reference))),
      skewByVillage: summarise([...startSkews(state.fleet.plays, item.itemId, (r) => villageOf.get(r) ?? '').values()]),
    };
  }
  const offline = state.powerLosses.flatMap((l) => [...l.flaggedAt.values()].map((at) => at - l.offAt));
  return {
    items,
    duplicates: duplicatePlays(state.fleet.plays).length,
    timeToFlagOffline: summarise(offline),
    reconnectStorms: state.reconnects.map((r) => ({ recoveredMs: r.recoveredMs, resyncedMs: r.resyncedMs })),
  };
}
