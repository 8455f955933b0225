import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AssetRef,
  type CommandBody,
  type CommandSigner,
  type CommandTarget,
  LANGUAGE_CODES,
  type LanguageCode,
  OPUS_RATE,
  type Priority,
  type SigningKey,
  TOPIC_SPECS,
  topics,
} from '@loa/protocols';
import type { MqttClient } from 'mqtt';
import type { Principal } from '../access/principal.js';
import type { OpusSettings } from '../audio/encoding/opus-frame-encoder.js';
import type { Database } from '../database/client.js';
import { preludeTones } from '../dispatch/audio-segments.js';
import { sendImmediateToEach } from '../dispatch/immediate-commands.js';
import { Prisma } from '../generated/prisma/client.js';
import { Problem } from '../http/problem.js';
import type { EventBus } from '../live-events/event-bus.js';
import { markUnheardMissed } from './live-deliveries.js';
import { LiveEncoder, type TimedFrame } from './live-encoder.js';
import { FRAMES_PER_PACKET, LivePacketizer } from './live-packetizer.js';
import { type IssuedLiveTarget, sendLiveStart } from './live-start.js';
import { resolveLiveTargets } from './live-targets.js';

/**
 * With a chime: a receiver whose amplifier was off warms it up (1.5 s by default) and then
 * sounds the 1.5 s chime, so the voice may start 3 s after live.start at the earliest;
 * 3.5 s leaves a margin for the command's trip. (The first words play latencyMs later still.)
 */
export const PRELUDE_LEAD_MS = 3500;
/** Without one: the amplifier's warm-up and the trip. */
export const NO_PRELUDE_LEAD_MS = 2000;
export const DEFAULT_LATENCY_MS = 250;
export const HEARTBEAT_TIMEOUT_MS = 5000;
/** With no audio going out for this long, a keep-alive (a packet without frames) goes out, and again each time. */
export const KEEPALIVE_MS = 1000;
export const DEFAULT_IDLE_END_S = 30;
/** How often the counters are written back; the write also shows this instance still holds the session. */
const PERSIST_MS = 5000;
/** An open session whose row was not touched for this long lost the controller instance that held it. */
export const STALE_SESSION_MS = 30_000;
/** A part-filled packet goes out this long after its last frame should have arrived. */
const PARTIAL_SLACK_MS = 40;
const TICK_MS = 250;
/** However far the timeline ran ahead of the clock, the end waits at most this long past the latency. */
const MAX_PLAYOUT_WAIT_MS = 1000;
const OPEN_LOCK = 0x4c495645; // "LIVE": serialises the one-speech-session-per-area check
const OPEN_STATES = ['opening', 'on_air'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LiveDeps {
  db: Database;
  signer: CommandSigner;
  mqtt: MqttClient;
  signingKey: SigningKey;
  bus?: EventBus;
  now?: () => number;
  log?: (msg: string, detail?: Record<string, unknown>) => void;
  /** A session on air with no audio for this long ends ('idle'); LIVE_IDLE_END_S, default 30. */
  idleEndS?: number;
  /** Opus settings (the bitrate: OPUS_BITRATE); frames are 20 ms. */
  opus?: Partial<Pick<OpusSettings, 'bitrate' | 'expectedLossPercent'>>;
}

export interface OpenLiveOptions {
  kind: 'speech' | 'relay';
  title: string;
  /** 'live' for speech by default; a relay uses its schedule's priority. */
  priority: Priority;
  /** Target areas (already checked against the caller's scope by the route). */
  areaIds: string[];
  receiverIds?: string[];
  volume: number;
  language?: string;
  latencyMs?: number;
  prelude?: 'none' | 'chime';
  /** Default randomUUID(); a relay passes its occurrence id. */
  sessionId?: string;
  occurrenceId?: string;
  relayUrl?: string;
  createdById?: string | null;
}

export interface LiveStats {
  framesSent: number;
  /** Every packet, keep-alives and the last one included. */
  packetsSent: number;
  /** Samples stamped before onAirAt, dropped. */
  droppedBeforeOnAir: number;
  keepAlives: number;
  /** Packets the broker did not take (not connected, or the publish failed). */
  publishFailures: number;
}

/** The broadcasts this process holds, by session id (the WebSocket and the stop route find them here). */
const local = new Map<string, LiveBroadcast>();

export function localBroadcast(sessionId: string): LiveBroadcast | undefined {
  return local.get(sessionId);
}

/** Ends every broadcast this process holds (at shutdown, so receivers stop at once rather than by heartbeat). */
export async function endLocalBroadcasts(reason: string): Promise<void> {
  await Promise.allSettled([...local.values()].map((b) => b.end(reason)));
}

const conflict = (detail: string, extra: Record<string, unknown> = {}) => new Problem(409, 'Conflict', detail, extra);

/**
 * Opens a live session: its targets resolved (the enabled receivers of its areas and the
 * single receivers named), its row and one delivery per receiver (planned), the signed
 * live.start on each target topic (one publish per area). Receivers take the amplifier
 * and sound the chime at once; the session is on air `PRELUDE_LEAD_MS` later and takes
 * audio from then on. A speech session is refused (409) where another is open on an
 * overlapping area; no receiver at all is 422.
 */
export async function openLiveSession(
  deps: LiveDeps,
  principal: Principal | 'system',
  options: OpenLiveOptions,
): Promise<LiveBroadcast> {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const id = options.sessionId ?? randomUUID();
  const latencyMs = options.latencyMs ?? DEFAULT_LATENCY_MS;
  // Checked here, not when live.start is signed: by then the session exists.
  const bad = (detail: string) => new Problem(400, 'Bad Request', detail);
  if (!UUID.test(id))
    throw bad(`a live session id is a UUID (it is the receivers' item id), not ${JSON.stringify(id)}`);
  if (!Number.isInteger(latencyMs) || latencyMs < 50 || latencyMs > 10_000)
    throw bad('latencyMs must be a whole number from 50 to 10000');
  if (!Number.isInteger(options.volume) || options.volume < 0 || options.volume > 100)
    throw bad('volume must be a whole number from 0 to 100');
  if (options.language !== undefined && !(LANGUAGE_CODES as readonly string[]).includes(options.language))
    throw bad(
      `unknown language ${JSON.stringify(options.language)}; use an ISO 639-3 code we broadcast (vie, hmn, ...)`,
    );
  const prelude = options.prelude ?? 'chime';
  const targets = await resolveLiveTargets(db, options.areaIds, options.receiverIds ?? []);
  if (targets.receivers.length === 0)
    throw new Problem(
      422,
      'Unprocessable Entity',
      'no enabled receiver is in the named areas or among the named receivers; check them (GET /receivers?area=...)',
    );
  const tone: { preludeSha256?: string; asset?: AssetRef } =
    prelude === 'chime' ? (await preludeTones(db))('chime') : {};

  try {
    await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${OPEN_LOCK})`;
      if (options.kind === 'speech') await refuseOverlap(tx, targets);
      await tx.liveSession.create({
        data: {
          id,
          kind: options.kind,
          title: options.title,
          priority: options.priority,
          language: options.language ?? null,
          volume: options.volume,
          latencyMs,
          prelude,
          areaIds: targets.areas.map((a) => a.id),
          receiverIds: targets.named.map((r) => r.id),
          occurrenceId: options.occurrenceId ?? null,
          relayUrl: options.relayUrl ?? null,
          createdById: options.createdById ?? (principal === 'system' ? null : principal.userId),
        },
      });
      await tx.liveDelivery.createMany({
        data: targets.receivers.map((r) => ({
          sessionId: id,
          receiverId: r.id,
          ...(r.online ? {} : { reason: 'offline when the session opened' }),
        })),
      });
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
      throw conflict(
        options.occurrenceId
          ? `a live session for occurrence ${options.occurrenceId} exists already`
          : `a live session ${id} exists already`,
      );
    throw error;
  }

  const settings = { bitrate: 24_000, expectedLossPercent: 10, ...deps.opus };
  const body: CommandBody<'live.start'> = {
    sessionId: id,
    priority: options.priority,
    codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: settings.bitrate },
    latencyMs,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    prelude,
    ...(tone.preludeSha256 ? { preludeSha256: tone.preludeSha256 } : {}),
    volume: options.volume,
    ...(options.language ? { language: options.language as LanguageCode } : {}),
    ...(tone.asset ? { assets: [tone.asset] } : {}),
  };
  let issued: IssuedLiveTarget[];
  try {
    issued = await sendLiveStart(deps, principal, id, targets.commandTargets, body);
  } catch (error) {
    const detail = `live.start could not be sent: ${(error as Error).message}`;
    await db.liveSession
      .update({ where: { id }, data: { state: 'failed', endedAt: new Date(now()), endReason: detail.slice(0, 500) } })
      .catch(() => {});
    throw new Problem(503, 'Service Unavailable', `${detail}; is the MQTT broker reachable? Try again`);
  }
  const onAirAt = now() + (prelude === 'chime' ? PRELUDE_LEAD_MS : NO_PRELUDE_LEAD_MS);
  const broadcast = new LiveBroadcast({
    deps,
    actor: principal,
    id,
    kind: options.kind,
    createdById: options.createdById ?? (principal === 'system' ? null : principal.userId),
    onAirAt,
    latencyMs,
    targets: issued.map((i) => i.target),
    settings,
  });
  local.set(id, broadcast);
  return broadcast;
}

/** 409 when an open speech session shares an area (one inside the other) or a receiver with these targets. */
async function refuseOverlap(
  tx: Prisma.TransactionClient,
  targets: Awaited<ReturnType<typeof resolveLiveTargets>>,
): Promise<void> {
  const open = await tx.liveSession.findMany({
    where: { kind: 'speech', state: { in: [...OPEN_STATES] } },
    select: { id: true, title: true, state: true, areaIds: true, updatedAt: true },
  });
  // The instance holding these died (its row stopped being touched): they are over.
  const stale = open.filter((s) => s.updatedAt.getTime() < Date.now() - STALE_SESSION_MS && !local.has(s.id));
  if (stale.length > 0)
    await tx.liveSession.updateMany({
      where: { id: { in: stale.map((s) => s.id) }, state: { in: [...OPEN_STATES] } },
      data: { state: 'failed', endedAt: new Date(), endReason: 'controller_lost' },
    });
  const live = open.filter((s) => !stale.includes(s));
  if (live.length === 0) return;
  const paths = new Map(
    (
      await tx.area.findMany({
        where: { id: { in: live.flatMap((s) => s.areaIds) } },
        select: { id: true, path: true },
      })
    ).map((a) => [a.id, a.path]),
  );
  const nested = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  let clash = live.find((s) => s.areaIds.some((id) => targets.areas.some((a) => nested(a.path, paths.get(id) ?? '~'))));
  if (!clash) {
    const shared = await tx.liveDelivery.findFirst({
      where: { sessionId: { in: live.map((s) => s.id) }, receiverId: { in: targets.receivers.map((r) => r.id) } },
      select: { sessionId: true },
    });
    clash = live.find((s) => s.id === shared?.sessionId);
  }
  if (clash)
    throw conflict(
      `live speech “${clash.title}” (session ${clash.id}) is ${clash.state === 'on_air' ? 'on air' : 'opening'} on an overlapping area; wait for it to end or stop it (POST /live/sessions/${clash.id}/stop)`,
      { session: { id: clash.id, title: clash.title, state: clash.state } },
    );
}

interface BroadcastInit {
  deps: LiveDeps;
  actor: Principal | 'system';
  id: string;
  kind: 'speech' | 'relay';
  createdById: string | null;
  onAirAt: number;
  latencyMs: number;
  targets: CommandTarget[];
  settings: Partial<OpusSettings>;
}

/**
 * One open live session on this controller instance: PCM in, signed Opus packets out
 * on the session's audio topic (QoS 0: a late packet is worthless, a lost one is
 * concealed). Made by openLiveSession.
 */
export class LiveBroadcast {
  readonly id: string;
  readonly kind: 'speech' | 'relay';
  readonly createdById: string | null;
  /** Controller ms; audio is taken from then on. */
  readonly onAirAt: number;
  /** Resolves at onAirAt (at once if the session ends before). */
  readonly onAir: Promise<void>;
  /** Resolves with the reason once the session has ended (whoever ended it). */
  readonly ended: Promise<string>;
  readonly latencyMs: number;
  readonly #deps: LiveDeps;
  readonly #actor: Principal | 'system';
  readonly #targets: CommandTarget[];
  readonly #now: () => number;
  readonly #log: NonNullable<LiveDeps['log']>;
  readonly #encoder: LiveEncoder;
  readonly #packetizer: LivePacketizer;
  readonly #topic: string;
  readonly #toPacket = (frame: TimedFrame) => this.#packetizer.add(frame);
  #state: 'opening' | 'on_air' | 'ending' = 'opening';
  #lastAudioAt: number;
  #lastPacketAt: number;
  #lastPersistAt: number;
  #dropped = 0;
  #publishFailures = 0;
  #ending: Promise<void> | undefined;
  #markOnAir: () => void = () => {};
  #markEnded: (reason: string) => void = () => {};
  readonly #timers: { tick: NodeJS.Timeout; onAir: NodeJS.Timeout; partial?: NodeJS.Timeout };

  constructor(init: BroadcastInit) {
    this.#deps = init.deps;
    this.#actor = init.actor;
    this.id = init.id;
    this.kind = init.kind;
    this.createdById = init.createdById;
    this.onAirAt = init.onAirAt;
    this.latencyMs = init.latencyMs;
    this.#targets = init.targets;
    this.#now = init.deps.now ?? Date.now;
    this.#log = init.deps.log ?? (() => {});
    this.#topic = topics.liveAudio(init.id);
    this.#encoder = new LiveEncoder({ ...init.settings, frameMs: 20 });
    this.#packetizer = new LivePacketizer({
      sessionId: init.id,
      signingKey: init.deps.signingKey,
      frameMs: 20,
      framesPerPacket: FRAMES_PER_PACKET,
      send: (bytes) => this.#publish(bytes),
    });
    const now = this.#now();
    this.#lastAudioAt = init.onAirAt;
    this.#lastPacketAt = now;
    this.#lastPersistAt = now;
    this.onAir = new Promise((resolve) => {
      this.#markOnAir = resolve;
    });
    this.ended = new Promise((resolve) => {
      this.#markEnded = resolve;
    });
    this.#timers = {
      tick: setInterval(() => this.#tick(), TICK_MS),
      onAir: setTimeout(() => void this.#goOnAir(), Math.max(0, init.onAirAt - now)),
    };
  }

  get state(): 'opening' | 'on_air' | 'ending' {
    return this.#state;
  }

  /** Where audio captured at `captureTs` would go on air on this session's timeline (see LiveEncoder.placement). */
  placement(captureTs: number): number {
    return this.#encoder.placement(captureTs);
  }

  /**
   * 48 kHz mono float PCM (-1..1), any length; `captureTs` = controller ms of its first
   * sample (default: now - duration). What lies before onAirAt is dropped (counted).
   * Never throws: encoding and publishing failures are logged and counted.
   */
  pushPcm(samples: Float32Array, captureTs?: number): void {
    if (this.#state === 'ending' || samples.length === 0) return;
    const now = this.#now();
    let ts = captureTs ?? now - (samples.length * 1000) / OPUS_RATE;
    let chunk = samples;
    if (ts < this.onAirAt) {
      const skip = Math.min(chunk.length, Math.ceil(((this.onAirAt - ts) * OPUS_RATE) / 1000));
      this.#dropped += skip;
      if (skip === chunk.length) return;
      chunk = chunk.subarray(skip);
      ts += (skip * 1000) / OPUS_RATE;
    }
    // Idle time counts from the on-air moment at the earliest.
    this.#lastAudioAt = Math.max(now, this.onAirAt);
    try {
      this.#encoder.push(chunk, ts, this.#toPacket);
    } catch (error) {
      this.#log('live audio could not be encoded', { sessionId: this.id, error: String(error) });
    }
    this.#schedulePartial(now);
  }

  /** One 20 ms, 48 kHz Opus frame made by the client, sent on without re-encoding (same timeline rules). */
  pushOpusFrame(frame: Uint8Array, captureTs?: number): void {
    if (this.#state === 'ending') return;
    const now = this.#now();
    const ts = captureTs ?? now - this.#encoder.frameMs;
    if (ts < this.onAirAt) {
      this.#dropped += (OPUS_RATE * this.#encoder.frameMs) / 1000;
      return;
    }
    // Idle time counts from the on-air moment at the earliest.
    this.#lastAudioAt = Math.max(now, this.onAirAt);
    try {
      this.#encoder.pushEncoded(frame, ts, this.#toPacket);
    } catch (error) {
      this.#log('live Opus frame refused', { sessionId: this.id, error: String(error) });
    }
    this.#schedulePartial(now);
  }

  /**
   * Ends: flushes the encoder, sends the last packet (last: true), sends live.stop, marks
   * the session ended with the reason and the receivers that never reported playing as
   * missed. Idempotent: later calls get the first call's promise.
   */
  end(reason: string, by: Principal | 'system' = this.#actor): Promise<void> {
    this.#ending ??= this.#finish(reason.slice(0, 500) || 'ended', by);
    return this.#ending;
  }

  stats(): LiveStats {
    const { framesSent, packetsSent, keepAlives } = this.#packetizer.stats;
    return {
      framesSent,
      packetsSent,
      droppedBeforeOnAir: this.#dropped,
      keepAlives,
      publishFailures: this.#publishFailures,
    };
  }

  #publish(bytes: Buffer): void {
    this.#lastPacketAt = this.#now();
    const mqtt = this.#deps.mqtt;
    // Offline, MQTT.js would queue the packets and deliver them late, in a burst: useless for live audio.
    if (!mqtt.connected) {
      this.#failed('not connected to the broker');
      return;
    }
    const spec = TOPIC_SPECS.liveAudio;
    mqtt.publish(
      this.#topic,
      bytes,
      {
        qos: spec.qos,
        retain: spec.retain,
        ...(typeof spec.messageExpiryS === 'number'
          ? { properties: { messageExpiryInterval: spec.messageExpiryS } }
          : {}),
      },
      (error) => {
        if (error) this.#failed(error.message);
      },
    );
  }

  #failed(why: string): void {
    // Logged on the first failure and every 100th after, not 17 times a second.
    if (this.#publishFailures++ % 100 === 0)
      this.#log('live packet not published', { sessionId: this.id, why, failures: this.#publishFailures });
  }

  /** A part-filled packet goes out when its last frame is overdue, so its frames are not late on the receivers. */
  #schedulePartial(now: number): void {
    clearTimeout(this.#timers.partial);
    const since = this.#packetizer.pendingSince;
    if (since === undefined) return;
    const due = since + FRAMES_PER_PACKET * this.#encoder.frameMs + PARTIAL_SLACK_MS;
    this.#timers.partial = setTimeout(() => this.#packetizer.flush(), Math.max(0, due - now));
  }

  async #goOnAir(): Promise<void> {
    if (this.#state !== 'opening') return;
    this.#state = 'on_air';
    this.#markOnAir();
    try {
      await this.#deps.db.liveSession.updateMany({
        where: { id: this.id, state: 'opening' },
        data: { state: 'on_air', onAirAt: new Date(this.onAirAt) },
      });
    } catch (error) {
      this.#log('live session state not saved', { sessionId: this.id, error: String(error) });
    }
  }

  #tick(): void {
    if (this.#state === 'ending') return;
    const now = this.#now();
    const idleEndMs = (this.#deps.idleEndS ?? DEFAULT_IDLE_END_S) * 1000;
    if (this.#state === 'on_air' && now - this.#lastAudioAt >= idleEndMs) {
      void this.end('idle').catch((error: unknown) =>
        this.#log('idle live session did not end cleanly', { sessionId: this.id, error: String(error) }),
      );
      return;
    }
    if (now - this.#lastPacketAt >= KEEPALIVE_MS) {
      if (this.#encoder.pending || this.#packetizer.pendingSince !== undefined) {
        // The speaker stopped mid-frame: what is left goes out (padded) before the silence.
        this.#encoder.flush(this.#toPacket);
        this.#packetizer.flush();
      } else {
        const ts = Math.max(now, this.#packetizer.lastTs);
        this.#packetizer.keepAlive(ts);
        this.#encoder.holdFrom(ts);
      }
    }
    if (now - this.#lastPersistAt >= PERSIST_MS) {
      this.#lastPersistAt = now;
      void this.#persist();
    }
  }

  /** Writes the counters back; finding the session no longer open means it was stopped on another instance. */
  async #persist(): Promise<void> {
    const { framesSent, packetsSent } = this.#packetizer.stats;
    try {
      const touched = await this.#deps.db.liveSession.updateMany({
        where: { id: this.id, state: { in: [...OPEN_STATES] } },
        // updatedAt is the sign of life other instances read (STALE_SESSION_MS), so it is set even when nothing went out.
        data: { framesSent, packetsSent, updatedAt: new Date() },
      });
      if (touched.count === 0 && this.#state !== 'ending') {
        const row = await this.#deps.db.liveSession.findUnique({ where: { id: this.id }, select: { endReason: true } });
        await this.end(row?.endReason ?? 'stopped');
      }
    } catch (error) {
      this.#log('live session counters not saved', { sessionId: this.id, error: String(error) });
    }
  }

  async #finish(reason: string, by: Principal | 'system'): Promise<void> {
    this.#state = 'ending';
    clearInterval(this.#timers.tick);
    clearTimeout(this.#timers.onAir);
    clearTimeout(this.#timers.partial);
    this.#markOnAir();
    const { db } = this.#deps;
    try {
      try {
        this.#encoder.flush(this.#toPacket);
      } catch (error) {
        this.#log('live audio tail could not be encoded', { sessionId: this.id, error: String(error) });
      }
      this.#packetizer.finish(Math.max(this.#now(), this.#packetizer.lastTs));
      // live.stop waits until the receivers have played the last frame out (its time + the latency).
      const playedOut = (this.#encoder.nextTs ?? 0) + this.latencyMs - this.#now();
      if (playedOut > 0) await sleep(Math.min(playedOut, this.latencyMs + MAX_PLAYOUT_WAIT_MS));
      try {
        await sendImmediateToEach(this.#deps, by, {
          kind: 'live.stop',
          targets: this.#targets,
          body: { sessionId: this.id, reason },
        });
      } catch (error) {
        // The last packet went out; receivers without the stop end by heartbeat within seconds.
        this.#log('live.stop not sent', { sessionId: this.id, error: String(error) });
      }
      const { framesSent, packetsSent } = this.#packetizer.stats;
      const closed = await db.liveSession.updateMany({
        where: { id: this.id, state: { in: [...OPEN_STATES] } },
        data: { state: 'ended', endedAt: new Date(this.#now()), endReason: reason, framesSent, packetsSent },
      });
      // Stopped on another instance first: its reason stands, the counters are ours.
      if (closed.count === 0)
        await db.liveSession.update({ where: { id: this.id }, data: { framesSent, packetsSent } });
      const missed = await markUnheardMissed(db, this.id, new Date(this.#now()));
      for (const notice of missed) void this.#deps.bus?.publish(notice).catch(() => {});
    } finally {
      local.delete(this.id);
      this.#markEnded(reason);
    }
  }
}
