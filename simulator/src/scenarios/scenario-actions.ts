import type { AreaLevel, PlayableItem, RiskLevel } from '@loa/protocols';
import { waitFor } from '../harness/free-port.js';
import type { System } from '../harness/system.js';
import { vietnamLocal } from '../harness/vietnam-time.js';
import { type IssuedAlert, issueAlert, updateAlert } from '../registry/alert-api.js';
import type { ControllerRegistry, RegistryArea } from '../registry/controller-registry.js';
import { alertReach, type RunState, type ScenarioAlert } from './expectations.js';
import { EXPECTED_REFUSAL, injectForgery } from './forgery.js';
import { durationMs } from './load-scenario.js';
import type { NetworkFaults } from './scenario-runner.js';
import type { ReceiverSelector, ScenarioAction } from './scenario-schema.js';
import type { WireObserver } from './wire-observer.js';

/** Content a scenario made: its id, length, first asset and languages. */
export interface ScenarioContent {
  id: string;
  durationMs: number;
  firstSha: string;
  languages: string[];
}

/** What the timeline's actions act on. */
export interface ActionContext {
  scenarioName: string;
  /** The controller's speech engine: with one, a Vietnamese headline is spoken too. */
  speech: 'none' | 'espeak-ng';
  state: RunState;
  system: System;
  proxy: NetworkFaults | undefined;
  observer: WireObserver;
  admin: ControllerRegistry;
  as: (username: string) => Promise<ControllerRegistry>;
  content: Map<string, ScenarioContent>;
  /** Uploaded audio by scenario id. */
  audio: Map<string, { sha256: string; durationMs: number }>;
  /** Work that goes on after its step (lifting a fault, powering back on, watching). */
  background: Array<Promise<unknown>>;
  log: (line: string) => void;
}

/**
 * The timeline's actions, each done the way its actor would: officials and emergency
 * staff through the controller's API, faults on the proxy, broker, controller process or
 * the fleet, forgeries at the broker.
 */
export function scenarioActions(ctx: ActionContext): (step: ScenarioAction) => Promise<void> {
  const { state, system, proxy, observer, admin, as, content, audio, background, log } = ctx;
  const { specs, areaByCode } = state;
  const fleet = state.fleet;
  const scenario = { name: ctx.scenarioName };
  const underAreas = (codes: readonly string[]) =>
    specs.filter((s) => s.areas.some((a) => codes.includes(a.areaCode))).map((s) => s.receiverId);
  const select = (selector: ReceiverSelector): string[] => {
    let ids = selector.areas ? underAreas(selector.areas) : specs.map((s) => s.receiverId);
    if (selector.receivers) ids = ids.filter((id) => selector.receivers?.includes(id));
    return selector.count ? ids.slice(0, selector.count) : ids;
  };
  const contentOf = (id: string) => {
    const c = content.get(id);
    if (!c) throw new Error(`no content "${id}" in the scenario`);
    return c;
  };
  /** Scenario audio ids per language → the uploaded assets' SHA-256. */
  const recordedAudio = (what: string, given: Record<string, string> | undefined) =>
    Object.fromEntries(
      Object.entries(given ?? {}).map(([language, audioId]) => {
        const asset = audio.get(audioId);
        if (!asset) throw new Error(`${what}: no audio "${audioId}"`);
        return [language, asset.sha256];
      }),
    );
  /** The languages an alert sounds in: its recordings, and Vietnamese where the engine reads the headline. */
  const soundingLanguages = (recorded: Record<string, string>, headline: Record<string, string>) => [
    ...new Set([...(ctx.speech === 'espeak-ng' && headline.vie ? ['vie'] : []), ...Object.keys(recorded)]),
  ];
  const fleetReceivers = new Set(specs.map((s) => s.receiverId));
  /** An alert or Update issued: what expectations judge it by. */
  const issuedAlert = (
    id: string,
    issued: IssuedAlert,
    alert: Omit<ScenarioAlert, 'id' | 'wireId' | 'revision' | 'issuedAt'>,
    languages: string[],
  ) => {
    state.alerts.set(id, {
      ...alert,
      id: issued.id,
      wireId: issued.wireId,
      revision: issued.revision,
      issuedAt: issued.issuedAt,
    });
    state.items.set(id, {
      itemId: issued.itemId,
      reference: issued.issuedAt,
      // Of the fleet: those under its areas, and those inside its drawn shapes by their surveyed positions.
      expected: alertReach(state.registry, alert.areas, alert.shapes)
        .map((r) => r.receiverId)
        .filter((r) => fleetReceivers.has(r)),
      content: id,
      kind: 'now',
    });
    state.contentLanguages.set(id, languages);
  };
  const areaRef = (code: string): { level: AreaLevel; areaCode: string } => {
    const area = areaByCode.get(code) as RegistryArea | undefined;
    if (!area) throw new Error(`no area ${code}`);
    return { level: area.level, areaCode: code };
  };

  const actOn = async (step: ScenarioAction): Promise<void> => {
    const now = () => Date.now();
    if ('schedule' in step) {
      const s = step.schedule;
      const c = contentOf(s.content);
      const airtime = Math.ceil((now() + durationMs(s.in)) / 1000) * 1000;
      const created = await (await as(step.as)).post<{ id: string }>('/schedules', {
        title: `${scenario.name}: ${s.id}`.slice(0, 200),
        contentId: c.id,
        startLocal: vietnamLocal(airtime),
        durationMs: s.durationMs ?? c.durationMs * 2 + 60_000,
        priority: s.priority ?? 'normal',
        startMode: s.startMode ?? 'hard',
        prelude: s.prelude ?? 'none',
        volume: 80,
        targets: { areas: s.areas },
        acceptConflicts: true,
      });
      const deliveries = await admin.get<{ items: Array<{ occurrenceId: string; startsAt: string }> }>(
        `/deliveries?schedule=${created.id}&limit=1`,
      );
      const first = deliveries.items[0];
      if (!first) throw new Error(`schedule ${s.id} has no airtime in the horizon`);
      state.items.set(s.id, {
        itemId: first.occurrenceId,
        reference: Date.parse(first.startsAt),
        expected: underAreas(s.areas),
        content: s.content,
        kind: 'scheduled',
      });
      log(`t+${now() - state.t0} ms: scheduled ${s.id} at ${first.startsAt}`);
    } else if ('playNow' in step) {
      const p = step.playNow;
      const triggered = now();
      const sent = await (await as(step.as)).post<{ itemId: string }>('/commands/play', {
        contentId: contentOf(p.content).id,
        targets: { areas: p.areas },
        priority: p.priority ?? 'priority',
        prelude: p.prelude ?? 'none',
      });
      state.items.set(p.id, {
        itemId: sent.itemId,
        reference: triggered,
        expected: underAreas(p.areas),
        content: p.content,
        kind: 'now',
      });
      log(`t+${triggered - state.t0} ms: play now ${p.id} (${sent.itemId})`);
    } else if ('stop' in step) {
      const item = state.items.get(step.stop.item);
      if (!item) throw new Error(`stop: no item "${step.stop.item}" yet`);
      await (await as(step.as)).post('/commands/stop', { targets: { areas: step.stop.areas }, itemId: item.itemId });
    } else if ('alert' in step) {
      const a = step.alert;
      const recorded = recordedAudio(`alert ${a.id}`, a.audio);
      const headline = a.headline ?? { vie: `${scenario.name}: ${a.id}`.slice(0, 300) };
      const status = a.status ?? 'Exercise';
      const issued = await issueAlert(
        await as(step.as),
        {
          status,
          hazard: a.hazard ?? 'flash_flood',
          riskLevel: a.riskLevel as RiskLevel,
          headline,
          audio: recorded,
          ...(a.areas ? { areas: a.areas } : {}),
          ...(a.polygons ? { polygons: a.polygons } : {}),
          ...(a.circles ? { circles: a.circles } : {}),
        },
        a.approveAs ? await as(a.approveAs) : undefined,
      );
      const shapes = { polygons: a.polygons ?? [], circles: a.circles ?? [] };
      issuedAlert(
        a.id,
        issued,
        { status, areas: a.areas ?? [], shapes, headline },
        soundingLanguages(recorded, headline),
      );
      log(
        `t+${issued.issuedAt - state.t0} ms: alert ${a.id} issued (${issued.identifier}, ${state.items.get(a.id)?.expected.length} receivers of the fleet)`,
      );
    } else if ('updateAlert' in step) {
      const u = step.updateAlert;
      const before = state.alerts.get(u.alert);
      if (!before) throw new Error(`updateAlert: no alert "${u.alert}" issued yet`);
      const recorded = recordedAudio(`updateAlert ${u.id}`, u.audio);
      const issued = await updateAlert(
        await as(step.as),
        before.id,
        {
          ...(u.riskLevel ? { riskLevel: u.riskLevel as RiskLevel } : {}),
          ...(u.hazard ? { hazard: u.hazard } : {}),
          ...(u.headline ? { headline: u.headline } : {}),
          ...(u.audio ? { audio: recorded } : {}),
        },
        u.approveAs ? await as(u.approveAs) : undefined,
      );
      const headline = u.headline ?? before.headline;
      // What it sounds in: its own recordings where it changes them, else the alert's.
      const languages = u.audio ? soundingLanguages(recorded, headline) : (state.contentLanguages.get(u.alert) ?? []);
      issuedAlert(
        u.id,
        issued,
        { status: before.status, areas: before.areas, shapes: before.shapes, headline },
        languages,
      );
      log(`t+${issued.issuedAt - state.t0} ms: alert ${u.alert} updated: ${u.id} issued (revision ${issued.revision})`);
    } else if ('cancelAlert' in step) {
      const alert = state.alerts.get(step.cancelAlert.alert);
      if (!alert) throw new Error(`cancelAlert: no alert "${step.cancelAlert.alert}" yet`);
      const sent = now();
      await (await as(step.as)).post(`/alerts/${alert.id}/cancel`, {
        ...(step.cancelAlert.reason ? { reason: step.cancelAlert.reason } : {}),
      });
      // One cancel ends every revision: the alert's and each Update's.
      for (const [id, a] of state.alerts) if (a.wireId === alert.wireId) state.cancels.set(id, sent);
      log(`t+${sent - state.t0} ms: alert ${step.cancelAlert.alert} cancelled`);
    } else if ('network' in step) {
      if (!proxy) throw new Error('network faults need the fault proxy');
      const n = step.network;
      const ids = select(n);
      const rule = proxy.apply({ receivers: ids }, n.conditions);
      const impairment = { receivers: new Set(ids), from: now(), to: Number.POSITIVE_INFINITY };
      if (n.conditions.cut || n.conditions.blackhole) state.impaired.push(impairment);
      log(`t+${now() - state.t0} ms: network ${JSON.stringify(n.conditions)} on ${ids.length} receivers`);
      if (n.for !== undefined) {
        const p = proxy;
        background.push(
          sleep(durationMs(n.for)).then(() => {
            p.lift(rule);
            impairment.to = Date.now();
          }),
        );
      }
    } else if ('brokerRestart' in step) {
      await system.broker.down();
      await sleep(durationMs(step.brokerRestart.downFor ?? 0));
      await system.broker.up();
      const upAt = now();
      background.push(measureRecovery(state, upAt));
    } else if ('controllerRestart' in step) {
      await system.controller.stop(step.controllerRestart.crash ? 'SIGKILL' : 'SIGTERM');
      await sleep(durationMs(step.controllerRestart.downFor ?? 0));
      await system.controller.start();
    } else if ('powerLoss' in step) {
      const ids = select(step.powerLoss);
      // A receiver that loses power says nothing more: behind the proxy its last words
      // (goodbye, disconnect) are swallowed, so the controller must notice the silence.
      const silence = proxy?.apply({ receivers: ids }, { blackhole: true });
      const offAt = now();
      const loss = {
        receivers: ids,
        offAt,
        flaggedAt: new Map<string, number>(),
        onAt: undefined as number | undefined,
      };
      state.powerLosses.push(loss);
      const impairment = { receivers: new Set(ids), from: offAt, to: Number.POSITIVE_INFINITY };
      state.impaired.push(impairment);
      background.push(watchOffline(admin, loss));
      await Promise.all(ids.map((id) => fleet.powerOff(id)));
      if (step.powerLoss.offFor !== undefined)
        background.push(
          sleep(durationMs(step.powerLoss.offFor)).then(async () => {
            if (silence !== undefined) proxy?.lift(silence);
            await Promise.all(ids.map((id) => fleet.powerOn(id)));
            loss.onAt = Date.now();
            impairment.to = loss.onAt;
          }),
        );
    } else if ('forge' in step) {
      const f = step.forge;
      const c = f.content ? contentOf(f.content) : [...content.values()][0];
      const item: PlayableItem = {
        itemId: `forged-${f.id}`,
        title: 'forged',
        priority: 'emergency',
        startMode: 'hard',
        volume: 100,
        repeat: 1,
        prelude: 'siren',
        segments: c ? [{ language: 'vie', sha256: c.firstSha, durationMs: c.durationMs }] : [],
      };
      const ids: string[] = [];
      for (const code of f.areas) ids.push(await injectForgery(observer, f.method, areaRef(code), item));
      state.forged.set(f.id, {
        commandIds: ids,
        at: now(),
        expected: underAreas(f.areas),
        itemId: item.itemId,
        reason: EXPECTED_REFUSAL[f.method],
      });
      log(`t+${now() - state.t0} ms: injected a ${f.method} command on ${f.areas.join(', ')}`);
    }
  };

  return actOn;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Time from the broker's return until every powered receiver is back online with a good
 * clock sync, and until each has synced again since (a receiver whose last sync is under
 * a minute old keeps it, so that one may not come).
 */
async function measureRecovery(state: RunState, upAt: number): Promise<void> {
  const record = { upAt, recoveredMs: null as number | null, resyncedMs: null as number | null };
  state.reconnects.push(record);
  const off = () => new Set(state.powerLosses.flatMap((l) => (l.onAt ? [] : l.receivers))).size;
  await waitFor(
    async () => {
      const s = await state.fleet.status({ syncedSince: upAt });
      const powered = s.receivers - off();
      if (record.recoveredMs === null && s.online >= powered && s.synced >= powered)
        record.recoveredMs = Date.now() - upAt;
      if (record.resyncedMs === null && (s.syncedSince ?? 0) >= powered) record.resyncedMs = Date.now() - upAt;
      return record.recoveredMs !== null && (record.resyncedMs !== null || Date.now() - upAt > 70_000);
    },
    120_000,
    100,
  );
}

/** Polls the controller until it flags each powered-off receiver offline. */
async function watchOffline(admin: ControllerRegistry, loss: RunState['powerLosses'][number]): Promise<void> {
  const pending = new Set(loss.receivers);
  const deadline = loss.offAt + 180_000;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const receiver = await admin.get<{ online: boolean }>(`/receivers/${id}`).catch(() => null);
      if (receiver && !receiver.online) {
        loss.flaggedAt.set(id, Date.now());
        pending.delete(id);
      }
    }
    await sleep(500);
  }
}
