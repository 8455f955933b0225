import {
  type AckEvent,
  decodeMessage,
  decodeReceiverEvent,
  type EventReceipts,
  formatIssues,
  type PlayEvent,
  parseTopic,
  type ReceiverEvent,
  ReceiverLogs,
  ReceiverState,
  sharedSubscription,
  Telemetry,
  TOPIC_SPECS,
  topicFilter,
  topics,
} from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { applyAlertAck, applyAlertPlay } from '../alerts/alert-deliveries.js';
import type { Database } from '../database/client.js';
import { NO_REPORT } from '../deliveries/missed-sweep.js';
import type { Prisma } from '../generated/prisma/client.js';
import { applyLiveAck, applyLivePlay } from '../live/live-deliveries.js';
import type { FleetEvent } from '../live-events/fleet-event.js';
import { stateForPlay, statesBelow } from './delivery-states.js';

export interface IngestOptions {
  db: Database;
  mqttUrl: string;
  /** Shared-subscription group: instances in one group split the traffic. */
  group?: string;
  clientId?: string;
  now?: () => Date;
  log?: (message: string, detail?: Record<string, unknown>) => void;
  /** Changes worth showing live (online flips, delivery states, faults). */
  onEvent?: (event: FleetEvent) => void;
  /**
   * Seconds between the telemetry samples kept for the history charts, per receiver
   * (TELEMETRY_SAMPLE_S). A report whose faults differ from the last kept one is kept
   * at once. 0 keeps every report.
   */
  telemetrySampleS?: number;
}

export interface IngestStats {
  accepted: number;
  duplicates: number;
  rejected: Record<string, number>;
}

const json = (value: unknown) => value as Prisma.InputJsonValue;
type Tx = Prisma.TransactionClient;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A receipt goes out once it names this many events (at most 500 fit in one)... */
const RECEIPT_BATCH = 100;
/** ...or this long after the first event it names was stored, whichever comes first. */
const RECEIPT_DELAY_MS = 200;
const RECEIPTS = TOPIC_SPECS.receiverEventReceipts;

/**
 * Consumes what receivers publish (state, telemetry, events), validated with protocols,
 * into the database. Hostile or malformed messages are counted and logged, never thrown:
 * one bad receiver cannot stop the ingest of the others.
 */
export class ReceiverIngest {
  readonly stats: IngestStats = { accepted: 0, duplicates: 0, rejected: {} };
  #client: MqttClient | undefined;
  #queue: Promise<void> = Promise.resolve();
  readonly #receipts = new Map<string, Set<string>>();
  /** Per receiver: when its last telemetry sample was kept, and its faults then. */
  readonly #lastSample = new Map<string, { at: number; faults: string }>();
  #receiptTimer: NodeJS.Timeout | undefined;
  readonly #o: Required<Omit<IngestOptions, 'clientId'>> & { clientId?: string };

  constructor(options: IngestOptions) {
    this.#o = {
      group: 'loa-controller',
      now: () => new Date(),
      log: () => {},
      onEvent: () => {},
      telemetrySampleS: 0,
      ...options,
    };
  }

  async start(): Promise<void> {
    const o = this.#o;
    this.#client = await mqtt.connectAsync(o.mqttUrl, {
      protocolVersion: 5,
      ...(o.clientId ? { clientId: o.clientId } : {}),
      clean: true,
      reconnectPeriod: 1000,
    });
    this.#client.on('message', (topic, payload) => {
      // Serialise per instance so a receiver's reports apply in arrival order.
      this.#queue = this.#queue
        .then(() => this.handle(topic, payload))
        .catch((error: unknown) => {
          this.#reject('internal_error', topic, String(error));
        });
    });
    await this.#client.subscribeAsync(
      (['receiverState', 'receiverTelemetry', 'receiverEvents', 'receiverLogs'] as const).map((name) =>
        sharedSubscription(o.group, topicFilter(name)),
      ),
      { qos: 1 },
    );
  }

  /** Waits until every message received so far has been applied. */
  async drain(): Promise<void> {
    await this.#queue;
  }

  async stop(): Promise<void> {
    await this.drain();
    if (this.#receiptTimer) clearTimeout(this.#receiptTimer);
    this.#flushAllReceipts();
    await this.#client?.endAsync();
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseTopic(topic);
    if (!parsed || !('receiverId' in parsed)) return this.#reject('unknown_topic', topic);
    const receiverId = parsed.receiverId;
    switch (parsed.name) {
      case 'receiverState': {
        if (payload.length === 0) return; // a cleared retained message
        const state = decodeMessage(ReceiverState, payload);
        if (!state.ok) return this.#reject('malformed', topic, formatIssues(state.errors));
        if (state.value.receiverId !== receiverId) return this.#reject('spoofed_id', topic);
        await this.#apply(receiverId, topic, {
          online: state.value.online,
          lastState: json(state.value),
          ...(state.value.online ? { lastSeenAt: this.#o.now() } : {}),
          ...(state.value.agentVersion ? { agentVersion: state.value.agentVersion } : {}),
        });
        return;
      }
      case 'receiverTelemetry': {
        const t = decodeMessage(Telemetry, payload);
        if (!t.ok) return this.#reject('malformed', topic, formatIssues(t.errors));
        if (t.value.receiverId !== receiverId) return this.#reject('spoofed_id', topic);
        const at = this.#o.now();
        const known = await this.#apply(receiverId, topic, {
          online: true,
          lastSeenAt: at,
          telemetry: json(t.value),
          faults: t.value.faults,
          agentVersion: t.value.agentVersion,
          ...(t.value.firmware ? { firmware: t.value.firmware } : {}),
        });
        if (known && this.#keepSample(receiverId, at, t.value.faults))
          await this.#o.db.telemetrySample.create({ data: { receiverId, at, values: json(t.value) } });
        return;
      }
      case 'receiverEvents': {
        const event = decodeReceiverEvent(payload);
        if (!event.ok) return this.#reject('malformed', topic, formatIssues(event.errors));
        if (event.value.receiverId !== receiverId) return this.#reject('spoofed_id', topic);
        return this.#event(event.value, topic);
      }
      case 'receiverLogs': {
        const logs = decodeMessage(ReceiverLogs, payload, { maxBytes: 4 * 1024 * 1024 });
        if (!logs.ok) return this.#reject('malformed', topic, formatIssues(logs.errors));
        if (logs.value.receiverId !== receiverId) return this.#reject('spoofed_id', topic);
        const known = await this.#o.db.receiver.count({ where: { id: receiverId } });
        if (!known) return this.#reject('unknown_receiver', topic);
        await this.#o.db.receiverLog.create({
          data: { receiverId, commandId: logs.value.commandId, lines: logs.value.lines },
        });
        this.stats.accepted++;
        return;
      }
      default:
        return this.#reject('unknown_topic', topic);
    }
  }

  /** Updates the receiver; false (and a rejection counted) when there is no such receiver. */
  async #apply(receiverId: string, topic: string, data: Prisma.ReceiverUpdateInput): Promise<boolean> {
    if (typeof data.online === 'boolean') {
      // Flip first, conditionally, so only a real change becomes a live event.
      const flipped = await this.#o.db.receiver.updateMany({
        where: { id: receiverId, online: !data.online },
        data: { online: data.online },
      });
      if (flipped.count > 0)
        this.#o.onEvent({ type: 'receiver.online', receiverId, online: data.online, at: this.#o.now().toISOString() });
    }
    const updated = await this.#o.db.receiver.updateMany({
      where: { id: receiverId },
      data: data as Prisma.ReceiverUpdateManyMutationInput,
    });
    if (updated.count === 0) {
      this.#reject('unknown_receiver', topic);
      return false;
    }
    this.stats.accepted++;
    return true;
  }

  /**
   * Stores one event and its effects in a single transaction, keyed by its eventId, and
   * receipts it only after the commit. A repeat (already stored, perhaps by another
   * instance) is receipted again. If anything fails, nothing is kept and nothing is
   * receipted, so the receiver sends the event again and it is applied then.
   */
  async #event(event: ReceiverEvent, topic: string): Promise<void> {
    const notices: FleetEvent[] = [];
    const outcome = await this.#o.db.$transaction(async (tx) => {
      // Faults are read, changed and written back: one receiver's fault reports, even when
      // shared out to several instances, apply one after the other.
      if (event.type === 'fault')
        await tx.$executeRaw`SELECT 1 FROM "Receiver" WHERE id = ${event.receiverId} FOR NO KEY UPDATE`;
      const known = await tx.receiver.findUnique({ where: { id: event.receiverId }, select: { faults: true } });
      if (!known) return 'unknown' as const;
      const fresh = await tx.ingestedEvent.createMany({
        data: [{ eventId: event.eventId, receiverId: event.receiverId }],
        skipDuplicates: true,
      });
      if (fresh.count === 0) return 'duplicate' as const;
      await this.#effects(tx, event, known.faults, notices);
      return 'stored' as const;
    });
    if (outcome === 'unknown') return this.#reject('unknown_receiver', topic);
    if (outcome === 'duplicate') this.stats.duplicates++;
    else {
      this.stats.accepted++;
      for (const notice of notices) this.#o.onEvent(notice);
      if (event.type === 'ack' && event.result === 'refused')
        this.#o.log('receiver refused a command', {
          receiverId: event.receiverId,
          commandId: event.commandId,
          reason: event.reason,
        });
    }
    // A repeat is receipted again: the receiver may have missed the first receipt.
    this.#receipt(event.receiverId, event.eventId);
  }

  async #effects(tx: Tx, event: ReceiverEvent, faults: string[], notices: FleetEvent[]): Promise<void> {
    const at = new Date(event.at);
    switch (event.type) {
      case 'play':
        return this.#play(tx, event, at, notices);
      case 'fault': {
        const latched = new Set(faults);
        if (event.state === 'raised') latched.add(event.code);
        else latched.delete(event.code);
        await tx.receiver.update({ where: { id: event.receiverId }, data: { faults: [...latched].sort() } });
        notices.push({
          type: 'receiver.fault',
          receiverId: event.receiverId,
          code: event.code,
          state: event.state,
          at: at.toISOString(),
        });
        return;
      }
      case 'ack':
        await this.#commandResult(tx, event, at);
        return this.#acknowledged(tx, event, at, notices);
      case 'cache':
        return;
    }
  }

  /**
   * Collects stored event ids per receiver and sends them back briefly after (a receiver
   * flushing a week of reports gets a few receipts, not hundreds). Only called once the
   * event is in the database, so a receipt never names something that could be lost.
   */
  #receipt(receiverId: string, eventId: string): void {
    let ids = this.#receipts.get(receiverId);
    if (!ids) {
      ids = new Set();
      this.#receipts.set(receiverId, ids);
    }
    ids.add(eventId);
    if (ids.size >= RECEIPT_BATCH) void this.#flushReceipts(receiverId);
    else this.#receiptTimer ??= setTimeout(() => this.#flushAllReceipts(), RECEIPT_DELAY_MS);
  }

  #flushAllReceipts(): void {
    this.#receiptTimer = undefined;
    for (const receiverId of [...this.#receipts.keys()]) void this.#flushReceipts(receiverId);
  }

  async #flushReceipts(receiverId: string): Promise<void> {
    const ids = this.#receipts.get(receiverId);
    this.#receipts.delete(receiverId);
    if (!ids?.size || !this.#client) return;
    const receipts: EventReceipts = { v: 1, receiverId, eventIds: [...ids], at: this.#o.now().getTime() };
    await this.#client
      .publishAsync(topics.receiverEventReceipts(receiverId), JSON.stringify(receipts), {
        qos: RECEIPTS.qos,
        retain: RECEIPTS.retain,
        ...(typeof RECEIPTS.messageExpiryS === 'number'
          ? { properties: { messageExpiryInterval: RECEIPTS.messageExpiryS } }
          : {}),
      })
      .catch((error: unknown) => this.#o.log('receipt not sent', { receiverId, error: String(error) }));
  }

  async #play(tx: Tx, event: PlayEvent, at: Date, notices: FleetEvent[]): Promise<void> {
    if (event.source === 'alert') return applyAlertPlay(tx, event, at, notices);
    // A live session's delivery moves; a relay's session id is its occurrence's, whose delivery moves below too.
    if (event.source === 'live') await applyLivePlay(tx, event, at, notices);
    else if (event.source !== 'schedule') return; // play-now items are not tracked per receiver
    // Not one of our occurrences: stored and receipted, but it moves nothing (and a
    // database error here would only make the receiver send it again, forever).
    if (!UUID.test(event.itemId)) return;
    const to = stateForPlay(event.state);
    const timestamps: Prisma.DeliveryUpdateManyMutationInput =
      to === 'started' ? { startedAt: at } : to === 'finished' || to === 'interrupted' ? { finishedAt: at } : {};
    const moved = await tx.delivery.updateMany({
      where: {
        occurrenceId: event.itemId,
        receiverId: event.receiverId,
        // A late report from a receiver that was offline replaces the sweep's guess.
        OR: [{ state: { in: statesBelow(to) } }, { state: 'missed', reason: NO_REPORT }],
      },
      data: { state: to, ...timestamps, reason: event.reason ?? null },
    });
    if (moved.count > 0) {
      notices.push({
        type: 'delivery.state',
        receiverId: event.receiverId,
        occurrenceId: event.itemId,
        state: to,
        at: at.toISOString(),
      });
    }
  }

  /** A command sent to this one receiver keeps its latest answer (the technician sees done or failed, and why). */
  async #commandResult(tx: Tx, event: Extract<ReceiverEvent, { type: 'ack' }>, at: Date): Promise<void> {
    if (!UUID.test(event.commandId)) return;
    const detail = [event.reason, event.detail].filter(Boolean).join(': ');
    await tx.dispatchedCommand.updateMany({
      where: { id: event.commandId, targetKey: `receiver:${event.receiverId}` },
      data: { result: event.result, resultDetail: detail || null, resultAt: at },
    });
  }

  /**
   * An accepted provision moves the deliveries it carried to `acknowledged` for that
   * receiver; an answer to an alert.issue moves the receiver's alert delivery, one to a
   * live.start its live delivery.
   */
  async #acknowledged(tx: Tx, event: AckEvent, at: Date, notices: FleetEvent[]): Promise<void> {
    const { receiverId, commandId } = event;
    if (!UUID.test(commandId)) return;
    const command = await tx.dispatchedCommand.findUnique({ where: { id: commandId } });
    if (command?.kind === 'live.start') return applyLiveAck(tx, event, at, notices);
    if (event.result !== 'accepted' && event.result !== 'refused') return;
    if (command?.alertId) return applyAlertAck(tx, event, command.alertId, at, notices);
    if (event.result !== 'accepted' || !command || command.occurrenceIds.length === 0) return;
    const moved = await tx.delivery.updateMany({
      where: { receiverId, occurrenceId: { in: command.occurrenceIds }, state: { in: statesBelow('acknowledged') } },
      data: { state: 'acknowledged', acknowledgedAt: at },
    });
    // One event per acknowledged provision, not per airtime it carries (a week's worth).
    if (moved.count > 0)
      notices.push({
        type: 'delivery.acknowledged',
        receiverId,
        commandId,
        deliveries: moved.count,
        at: at.toISOString(),
      });
  }

  /**
   * Whether this report becomes a history sample: a receiver reports every 10 s or so,
   * which would be ~120,000 rows per receiver over the retention; charts need a point
   * every few minutes, and fault changes when they happen. (Per instance: with several
   * instances a receiver may get a few more samples, never fewer.)
   */
  #keepSample(receiverId: string, at: Date, faults: readonly string[]): boolean {
    const last = this.#lastSample.get(receiverId);
    const faultKey = [...faults].sort().join(',');
    const due = !last || at.getTime() - last.at >= this.#o.telemetrySampleS * 1000 || last.faults !== faultKey;
    if (due) this.#lastSample.set(receiverId, { at: at.getTime(), faults: faultKey });
    return due;
  }

  #reject(reason: string, topic: string, detail?: string): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    this.#o.log('rejected receiver message', { reason, topic, ...(detail ? { detail } : {}) });
  }
}
