import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CommandVerifier,
  decodeMessage,
  EventReceipts,
  type FaultCode,
  FaultCodeSchema,
  type PlayableItem,
  type ReceiverLogs,
  TOPIC_SPECS,
  TrustedKeySet,
  topics,
  type VerifiedCommand,
} from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { ActiveAlerts, AlertKeeper } from './alerts/alert-keeper.js';
import { ClockSync } from './clock-sync/clock-sync.js';
import { CommandIntake } from './commands/command-intake.js';
import { type AgentConfig, mqttPasswordOf, trustedKeysOf } from './config/agent-config.js';
import { ContentCache } from './content/content-cache.js';
import type { Board, Clock, LineProbe, Modem, Storage } from './hardware/seams.js';
import { FaultLatch } from './health/fault-latch.js';
import { Heartbeat } from './health/heartbeat.js';
import { Backoff } from './link/backoff.js';
import { MqttLink, RECONNECT_FAST } from './link/mqtt-link.js';
import { type LiveSessionLookup, LiveSessions } from './live/live-sessions.js';
import { PlaybackEngine } from './playback/playback-engine.js';
import type { Renderer } from './playback/renderer.js';
import { type Report, Reporter } from './reporter.js';
import { ScheduleBook } from './schedule-book.js';
import { DurableDocument } from './store/durable-document.js';
import { Outbox } from './store/outbox.js';
import { ReplayStore } from './store/replay-store.js';

export const AGENT_VERSION = '0.3.0';

/** The parts an agent runs on: real ones on a receiver, virtual ones in tests and the simulator. */
export interface AgentParts {
  config: AgentConfig;
  clock: Clock;
  storage: Storage;
  /** Builds the renderer once the agent can read its cached assets and knows the volume. */
  renderer: (deps: {
    readAsset: (sha256: string) => Promise<Buffer | undefined>;
    volume: () => number;
    /** Latches a fault the sound path found (audio device, amplifier, speaker line). */
    raiseFault: (code: FaultCode, detail: string) => void;
    /** The controller's time as this receiver knows it (clock sync), for sound that must be in step across receivers. */
    controllerTime: () => number;
    /**
     * The open live sessions by id (= the live item's id), for a live renderer; compose it
     * with the file renderer through `routeLive(files, live, isLiveItem(liveSessions))`.
     */
    liveSessions: LiveSessionLookup;
  }) => Renderer;
  board: Board;
  modem: Modem;
  lineProbe?: LineProbe;
  amplifierOn?: () => boolean;
  /** How long an unreceipted report waits before it is sent again (tests shorten it). */
  reportResendMs?: number;
  /** Reconnect backoff (tests shorten it). */
  reconnect?: { baseMs: number; capMs: number };
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** How long a play-now waits for its audio to arrive before it is given up. */
const PLAY_NOW_FETCH_MS = 120_000;

/**
 * One receiver: verified commands in, a durable schedule, content fetched ahead, playback
 * by priority on controller time, and reports that survive any outage. Everything it
 * needs from the machine comes in through AgentParts.
 */
export class Agent {
  private volumeLevel: number;
  /** False after a power cut: nothing more is reported. */
  powered = true;
  private constructor(
    private readonly parts: AgentParts,
    readonly link: MqttLink,
    readonly engine: PlaybackEngine,
    readonly cache: ContentCache,
    readonly sync: ClockSync,
    readonly reporter: Reporter,
    readonly faults: FaultLatch,
    readonly heartbeat: Heartbeat,
    readonly book: ScheduleBook,
    readonly intake: CommandIntake,
    readonly outbox: Outbox,
    readonly alerts: AlertKeeper,
    readonly live: LiveSessions,
  ) {
    this.volumeLevel = parts.config.audio.volume;
  }

  static async start(parts: AgentParts): Promise<Agent> {
    const { config, clock, storage } = parts;
    // Recent log lines are kept for device.logs (a technician asks without visiting).
    const recent: string[] = [];
    const log = (message: string, detail?: Record<string, unknown>) => {
      recent.push(
        JSON.stringify({ time: new Date(clock.now()).toISOString(), msg: message, ...detail }).slice(0, 2000),
      );
      if (recent.length > 2000) recent.splice(0, recent.length - 2000);
      parts.log?.(message, detail);
    };
    const id = config.receiverId;
    const keys = new TrustedKeySet(trustedKeysOf(config));
    let faults: FaultLatch | undefined;
    // Storage problems found while loading come before the fault latch exists: kept, then raised.
    const earlyProblems: string[] = [];
    const storageFault = (what: string) => {
      if (faults) void faults.raise('storage_error', what);
      else earlyProblems.push(what);
    };
    const outbox = await Outbox.open(storage);
    const replay = await ReplayStore.open(storage, storageFault);
    const book = await ScheduleBook.open(storage, (_name, problem) => storageFault(problem));
    // Latched faults and the master volume survive reboots; a damaged file is set aside
    // and reported, never a reason not to start.
    const faultsDoc = new DurableDocument(
      storage,
      'faults.json',
      Type.Array(FaultCodeSchema),
      () => [],
      (_n, p) => storageFault(p),
    );
    const volumeDoc = new DurableDocument(
      storage,
      'volume.json',
      Type.Integer({ minimum: 0, maximum: 100 }),
      () => config.audio.volume,
      (_n, p) => storageFault(p),
    );
    const savedFaults = await faultsDoc.load();
    const link = new MqttLink({
      url: config.mqtt.url,
      receiverId: id,
      areas: config.areas,
      username: config.mqtt.username ?? id,
      ...(mqttPasswordOf(config) ? { password: mqttPasswordOf(config) as string } : {}),
      agentVersion: AGENT_VERSION,
      bootId: randomUUID(),
      clock,
      log,
      extraSubscriptions: [topics.timeResponse(id), topics.receiverEventReceipts(id)],
      ...(parts.reconnect
        ? { backoff: new Backoff(parts.reconnect.baseMs, parts.reconnect.capMs, Math.random, RECONNECT_FAST) }
        : {}),
    });
    const sync = new ClockSync({
      receiverId: id,
      clock,
      keys,
      publish: (topic, payload) => link.publish(topic, payload, { qos: 0, messageExpiryInterval: 10 }),
      samples: config.clockSync.samples,
      everyMs: config.clockSync.everyMs,
      log,
    });
    const time = () => sync.controllerTime();
    const reporter = new Reporter({
      receiverId: id,
      clock,
      time,
      outbox,
      link,
      log,
      ...(parts.reportResendMs ? { resendAfterMs: parts.reportResendMs } : {}),
    });
    let agent: Agent | undefined;
    // Nothing is reported (or stored) once the power is gone.
    const report = (r: Report) => {
      if (agent?.powered === false) return;
      void reporter.report(r).catch((e: unknown) => storageFault(String(e)));
    };
    faults = new FaultLatch({
      report: async (f) => report(f),
      save: (codes) => faultsDoc.save(codes),
      initial: savedFaults,
    });
    for (const problem of earlyProblems) storageFault(problem);
    const cache = await ContentCache.open({
      storage,
      clock,
      baseUrl: config.controllerUrl,
      report,
      budgetBytes: config.cache.budgetBytes,
      concurrency: config.cache.concurrency,
      log,
    });
    // Live sessions: their audio topic is subscribed while they last, their item queued at
    // their priority (the engine is bound below; nothing is submitted before it exists).
    const live = new LiveSessions({
      clock,
      controllerTime: time,
      keys,
      subscribe: (topic) => link.subscribe(topic, TOPIC_SPECS.liveAudio.qos),
      unsubscribe: (topic) => link.unsubscribe(topic),
      submit: (item) => engine.submit(item, 'live'),
      withdraw: (itemId) => void engine.stop({ itemId }),
      log,
    });
    const renderer = parts.renderer({
      readAsset: (sha) => cache.read(sha),
      volume: () => agent?.volumeLevel ?? config.audio.volume,
      raiseFault: (code, detail) => void faults?.raise(code, detail),
      controllerTime: time,
      liveSessions: live,
    });
    const engine = new PlaybackEngine({
      clock,
      controllerTime: time,
      renderer,
      handled: book.handled(),
      log,
      // Sound first, paperwork after: the report (outbox write, publish) runs once the
      // current turn is done, so it never delays the start of the sound it reports.
      // Order is kept (setImmediate runs in order); on a busy loop (many receivers in one
      // simulator process) one receiver's reports no longer hold up another's sound.
      report: (r) => {
        // A live session whose item has ended (however it ended) is unsubscribed and dropped now.
        if (r.source === 'live') live.ended(r);
        setImmediate(() => {
          report(r);
          if (r.state === 'failed' && /asset/.test(r.reason ?? '')) cache.want(book.assets());
          if (r.state !== 'started')
            void book.saveHandled(engine.handled()).catch((e: unknown) => storageFault(String(e)));
        });
      },
    });
    // Alerts in force survive reboots: a storm warning repeating every hour goes on.
    const alerts = new AlertKeeper({
      clock,
      controllerTime: time,
      submit: (item, endBy) => engine.submit(item, 'alert', endBy),
      stop: (request) => engine.stop(request),
      fetch: async (assets) => {
        cache.want(assets);
        await cache.whenHeld(
          assets.map((a) => a.sha256),
          PLAY_NOW_FETCH_MS,
        );
      },
      store: new DurableDocument(
        storage,
        'alerts.json',
        ActiveAlerts,
        () => [],
        (_n, p) => storageFault(p),
      ),
      log,
    });
    await alerts.load();
    const verifier = new CommandVerifier({
      keys,
      receiverId: id,
      areas: config.areas,
      replay: replay.guard,
      now: time,
    });
    const intake = new CommandIntake({
      verifier,
      persistReplay: () => replay.save(),
      onStorageError: (e) => storageFault(String(e)),
      // Acknowledgements are written after the command has acted (setImmediate keeps their
      // order): a warning's stop or start never waits for a report to be stored and sent.
      report: async (ack) => {
        setImmediate(() => report(ack));
      },
      log,
      handlers: {
        'schedule.provision': async (command) => {
          if (await book.accept(command.target, command.body)) agent?.applySchedule();
        },
        'play.now': async (command) => agent?.playNow(command.body.item, command.body.assets),
        'alert.issue': async (command) => alerts.issue(command.body),
        'alert.cancel': async (command) => alerts.cancel(command.body),
        'live.start': async (command) => live.start(command.body),
        'live.stop': async (command) => live.stop(command.body),
        stop: async (command) => {
          engine.stop(command.body);
        },
        'device.volume': async (command) => {
          if (agent) agent.volumeLevel = command.body.volume;
          await volumeDoc.save(command.body.volume);
        },
        'device.test': async (command) => agent?.runTest(command),
        'device.config': async (command) => {
          if (command.body.telemetryIntervalS) agent?.heartbeat.setPeriod(command.body.telemetryIntervalS * 1000);
        },
        'device.reload': async () => {
          // Re-reading every cached asset re-checks its hash; damaged ones are dropped and fetched again.
          for (const asset of book.assets()) await cache.read(asset.sha256);
          agent?.applySchedule();
        },
        'device.logs': async (command) => {
          const logs: ReceiverLogs = {
            v: 1,
            receiverId: id,
            at: Math.round(time()),
            commandId: command.id,
            lines: recent.slice(-command.body.maxLines),
          };
          await link.publish(topics.receiverLogs(id), JSON.stringify(logs), { qos: 1, messageExpiryInterval: 3600 });
        },
        'device.reboot': async () => {
          await agent?.stop('rebooting');
          await parts.board.reboot();
        },
      },
    });
    const heartbeat = new Heartbeat(
      {
        receiverId: id,
        agentVersion: AGENT_VERSION,
        firmware: async () => (await readFile(config.health.firmwareFile, 'utf8').catch(() => '')).trim() || undefined,
        clock,
        board: parts.board,
        modem: parts.modem,
        faults,
        audio: () => ({
          volume: agent?.volumeLevel ?? config.audio.volume,
          amplifierOn: parts.amplifierOn?.() ?? false,
        }),
        playing: () => engine.current(),
        // Exactly the telemetry fields: the schema refuses extra ones (a `downloading` count).
        cache: () => {
          const { assets, bytesUsed, bytesFree } = cache.state();
          return { assets, bytesUsed, bytesFree };
        },
        clockSync: () => sync.state(),
        scheduleVersion: () => book.version(),
      },
      (telemetry) =>
        link.publish(topics.receiverTelemetry(id), JSON.stringify(telemetry), { qos: 0, messageExpiryInterval: 300 }),
      config.health.heartbeatMs,
      log,
    );
    agent = new Agent(
      parts,
      link,
      engine,
      cache,
      sync,
      reporter,
      faults,
      heartbeat,
      book,
      intake,
      outbox,
      alerts,
      live,
    );
    // A saved 0 (a muted receiver) stays 0.
    agent.volumeLevel = await volumeDoc.load();

    link.onMessage((topic, payload, name) => {
      if (name === 'receiverCommand' || name === 'areaCommand') void intake.receive(topic, payload);
      else if (name === 'liveAudio') live.receive(topic, payload);
      else if (name === 'timeResponse') sync.onResponse(payload);
      else if (name === 'receiverEventReceipts') {
        const receipts = decodeMessage(EventReceipts, payload);
        if (receipts.ok) void reporter.onReceipts(receipts.value);
      }
    });
    link.onConnect(() => {
      log('connected to the broker', { url: config.mqtt.url });
      reporter.resendAll();
      void heartbeat.beat();
      void sync.syncNow();
    });
    log('agent started', { receiverId: id, version: AGENT_VERSION, scheduleVersion: book.version() ?? null });
    agent.applySchedule();
    link.start();
    reporter.start();
    heartbeat.start();
    sync.start();
    return agent;
  }

  /** The player and the cache follow the schedule book. */
  private applySchedule(): void {
    const items = this.book.items();
    this.engine.setSchedule({ revision: this.engine.revision + 1, items });
    const assets = this.book.assets();
    this.cache.retain(assets.map((a) => a.sha256));
    const firstNeed = items[0]?.startAt ?? this.parts.clock.now();
    this.cache.want(assets, firstNeed);
  }

  private async playNow(item: PlayableItem, assets: Parameters<ContentCache['want']>[0]): Promise<void> {
    this.cache.want(assets);
    // Submitted either way: without its audio the engine reports it failed, never silently lost.
    await this.cache.whenHeld(
      assets.map((a) => a.sha256),
      PLAY_NOW_FETCH_MS,
    );
    this.engine.submit(item, 'play_now');
  }

  private async runTest(command: Extract<VerifiedCommand, { kind: 'device.test' }>): Promise<void> {
    const probe = this.parts.lineProbe;
    if (command.body.mode === 'silent') {
      if (!probe) throw new Error('no line check configured on this receiver');
      const check = await probe.check();
      for (const code of ['amplifier_fault', 'speaker_line_open', 'speaker_line_short'] as const)
        await this.faults.set(code, check.fault === code);
      if (!check.ok) throw new Error(`line check failed: ${check.fault ?? 'unknown fault'}`);
      return;
    }
    const tone = command.body.toneSha256;
    if (!tone) throw new Error('an audible test needs toneSha256 (a tone asset)');
    const asset = command.body.assets?.find((a) => a.sha256 === tone);
    await this.playNow(
      {
        itemId: `test-${command.id}`,
        priority: 'priority',
        startMode: 'next',
        volume: this.volumeLevel,
        repeat: 1,
        prelude: 'none',
        segments: [{ language: 'vie', sha256: tone, durationMs: asset?.durationMs ?? 3000 }],
      },
      command.body.assets ?? [],
    );
  }

  status() {
    return {
      receiverId: this.parts.config.receiverId,
      connected: this.link.connected,
      playing: this.engine.current(),
      upcoming: this.engine.upcoming(10),
      clock: this.sync.state(),
      cache: this.cache.state(),
      faults: this.faults.list(),
      outbox: this.outbox.size,
      scheduleVersion: this.book.version(),
      live: this.live.list().map((s) => ({ sessionId: s.id, rendering: s.rendering, ...s.counters() })),
    };
  }

  /**
   * A power cut, for the simulator: everything stops at once, nothing more is reported or
   * stored, and the link ends without a word (see MqttLink.drop). What the store held
   * before the cut is what the receiver finds when it starts again.
   */
  powerCut(): void {
    this.powered = false;
    this.heartbeat.stop();
    this.sync.stop();
    this.reporter.stop();
    this.alerts.close();
    this.live.close();
    this.engine.close();
    void this.cache.close();
    this.link.drop();
  }

  async stop(reason: 'shutdown' | 'rebooting' = 'shutdown'): Promise<void> {
    this.heartbeat.stop();
    this.sync.stop();
    this.reporter.stop();
    this.alerts.close();
    this.live.close();
    this.engine.close();
    this.cache.close();
    await this.link.close(reason);
  }
}
