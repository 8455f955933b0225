import {
  type AreaRef,
  parseTopic,
  type ReceiverState,
  receiverCommandSubscriptions,
  TOPIC_SPECS,
  type TopicName,
  topics,
} from '@loa/protocols';
import mqtt, { type IClientOptions, type IDisconnectPacket, type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import { Backoff } from './backoff.js';

/** A week: commands sent while a receiver is offline wait at the broker this long. */
export const SESSION_EXPIRY_S = 7 * 86_400;

/** A connection must stay up this long before reconnect delays start again from the base. */
export const STABLE_CONNECTION_MS = 60_000;

/** The fast phase of reconnecting (see Backoff). */
export const RECONNECT_FAST = { attempts: 10, capMs: 8000 } as const;

/** How long a clean close waits for the broker before it drops the connection. */
const CLOSE_TIMEOUT_MS = 3000;

export interface MqttLinkOptions {
  url: string;
  receiverId: string;
  areas: readonly AreaRef[];
  username?: string;
  password?: string;
  agentVersion: string;
  bootId: string;
  clock: Clock;
  backoff?: Backoff;
  /**
   * Topics beyond those the link subscribes to by itself (its command topics, its time
   * answers and its event receipts), at QoS 1.
   */
  extraSubscriptions?: string[];
  /** See STABLE_CONNECTION_MS. Tests shorten it. */
  stableMs?: number;
  /** Seconds the broker keeps the session (and queues QoS 1 commands) while away. */
  sessionExpiryS?: number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export type MessageHandler = (topic: string, payload: Buffer, name: TopicName | undefined) => void;
export type CommandHandler = (topic: string, payload: Buffer) => void;

/** The topics a receiver publishes on, each under its own id. */
export type ReceiverTopic = 'receiverState' | 'receiverTelemetry' | 'receiverEvents' | 'timeRequest' | 'receiverLogs';

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry, seconds. */
  messageExpiryInterval?: number;
}

export interface LinkStats {
  /** Connection attempts, the first included. */
  reconnectAttempts: number;
  /** Sessions established (subscribed and announced online). */
  connects: number;
  /** Sessions established after the first. */
  reconnects: number;
  /** Established sessions lost (not counting a clean close). */
  disconnects: number;
  lastError: string;
  /** Local time of the last established session (0: never). */
  lastConnectedAt: number;
  /** The delay chosen before the pending reconnect, ms (undefined: none pending). */
  nextRetryInMs: number | undefined;
  /** Subscriptions the broker refused (its ACL), from the last connect. */
  refusedSubscriptions: string[];
}

/**
 * The receiver's MQTT 5 session: a persistent session (the broker keeps QoS 1 commands
 * for it while it is away), its command subscriptions, a retained online state with a
 * last will saying offline, and reconnection with jittered exponential backoff on the
 * injected clock (MQTT.js's own reconnect is off, so a fleet spreads its returns after
 * a broker restart and tests can drive the timer).
 */
export class MqttLink {
  #client: MqttClient | undefined;
  #timer: TimerHandle | undefined;
  #stableTimer: TimerHandle | undefined;
  #closing = false;
  #started = false;
  #connected = false;
  readonly #backoff: Backoff;
  readonly #messageHandlers: MessageHandler[] = [];
  readonly #commandHandlers: CommandHandler[] = [];
  readonly #onConnect: Array<() => unknown> = [];
  readonly #onDisconnect: Array<() => unknown> = [];
  readonly #inFlight = new Set<(error: Error) => void>();
  /** Topics subscribed while the agent runs (a live session's audio), with their QoS. */
  readonly #dynamic = new Map<string, 0 | 1>();
  /** Dynamic topics let go of while offline: the broker's session may still hold them. */
  readonly #stale = new Set<string>();
  readonly stats: LinkStats = {
    reconnectAttempts: 0,
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    lastError: '',
    lastConnectedAt: 0,
    nextRetryInMs: undefined,
    refusedSubscriptions: [],
  };

  constructor(private readonly o: MqttLinkOptions) {
    // Up to 8 s for the first ten tries (about 45 s in all: a 15 s cut or a broker restart
    // stays inside it), then doubling to 5 minutes:
    // a fleet is back within seconds of a broker restart, and a receiver whose link stays
    // down does not spend its data plan knocking.
    this.#backoff = o.backoff ?? new Backoff(1000, 5 * 60_000, Math.random, RECONNECT_FAST);
  }

  get connected(): boolean {
    return this.#connected;
  }

  get receiverId(): string {
    return this.o.receiverId;
  }

  /** What the link subscribes to on each connect, with the QoS asked for. */
  subscriptions(): Record<string, { qos: 0 | 1 }> {
    const id = this.o.receiverId;
    const wanted: Record<string, { qos: 0 | 1 }> = {};
    for (const topic of receiverCommandSubscriptions(id, this.o.areas)) wanted[topic] = { qos: 1 };
    wanted[topics.timeResponse(id)] = { qos: TOPIC_SPECS.timeResponse.qos };
    wanted[topics.receiverEventReceipts(id)] = { qos: TOPIC_SPECS.receiverEventReceipts.qos };
    for (const topic of this.o.extraSubscriptions ?? []) wanted[topic] ??= { qos: 1 };
    for (const [topic, qos] of this.#dynamic) wanted[topic] ??= { qos };
    return wanted;
  }

  /**
   * Subscribes to a topic for as long as the agent needs it (a live session's audio): now
   * when connected, and again on every connect until `unsubscribe`. Rejects when the
   * broker refuses it (its ACL); offline it resolves at once (the next connect subscribes).
   */
  async subscribe(topic: string, qos: 0 | 1 = 1): Promise<void> {
    this.#dynamic.set(topic, qos);
    this.#stale.delete(topic);
    const client = this.#client;
    if (!client || !this.#connected) return;
    try {
      await client.subscribeAsync(topic, { qos });
    } catch (error) {
      this.#dynamic.delete(topic);
      throw new Error(`the broker refused ${topic}: ${(error as Error).message ?? error}`);
    }
  }

  /** Lets go of a topic `subscribe` took (offline: at the next connect). */
  async unsubscribe(topic: string): Promise<void> {
    if (!this.#dynamic.delete(topic)) return;
    const client = this.#client;
    if (!client || !this.#connected) {
      this.#stale.add(topic);
      return;
    }
    await client.unsubscribeAsync(topic);
  }

  /** Every message received, with its topic's name when it is one of ours. */
  onMessage(handler: MessageHandler): void {
    this.#messageHandlers.push(handler);
  }

  /** Messages on the receiver's command topics (its own and its areas'). */
  onCommand(handler: CommandHandler): void {
    this.#commandHandlers.push(handler);
  }

  /** After each established session (subscribed, online announced): resend what waits. */
  onConnect(handler: () => unknown): void {
    this.#onConnect.push(handler);
  }

  /** When an established session is lost (not on a clean close). */
  onDisconnect(handler: () => unknown): void {
    this.#onDisconnect.push(handler);
  }

  /** Connects (and keeps reconnecting until closed). */
  start(): void {
    if (this.#started && !this.#closing) return;
    this.#started = true;
    this.#closing = false;
    this.#attempt();
  }

  /** Publishes; rejects when offline (callers keep what matters in their outbox). */
  async publish(topic: string, payload: string | Buffer, options: PublishOptions = { qos: 1 }): Promise<void> {
    const client = this.#client;
    if (!client || !this.#connected) throw new Error('not connected to the broker');
    // A publish in flight when the connection dies may never settle: fail it on disconnect
    // (the caller's outbox keeps the report), so nothing waits on a dead connection.
    let fail: ((error: Error) => void) | undefined;
    const lost = new Promise<never>((_, reject) => {
      fail = reject;
      this.#inFlight.add(reject);
    });
    try {
      await Promise.race([
        client.publishAsync(topic, payload, {
          qos: options.qos,
          retain: options.retain ?? false,
          ...(options.messageExpiryInterval
            ? { properties: { messageExpiryInterval: options.messageExpiryInterval } }
            : {}),
        }),
        lost,
      ]);
    } finally {
      if (fail) this.#inFlight.delete(fail);
    }
  }

  /** Publishes on one of this receiver's topics with the QoS, retain and expiry its spec sets. */
  publishTo(name: ReceiverTopic, payload: string | Buffer): Promise<void> {
    const spec = TOPIC_SPECS[name];
    const expiry = typeof spec.messageExpiryS === 'number' ? spec.messageExpiryS : undefined;
    return this.publish(topics[name](this.o.receiverId), payload, {
      qos: spec.qos,
      retain: spec.retain,
      ...(expiry ? { messageExpiryInterval: expiry } : {}),
    });
  }

  /**
   * Says goodbye (retained offline state with the reason) and disconnects cleanly, so
   * the broker keeps the session (commands queue for the receiver's return) and does
   * not send the last will.
   */
  async close(reason: 'shutdown' | 'rebooting' = 'shutdown'): Promise<void> {
    this.#closing = true;
    this.#clearTimers();
    this.stats.nextRetryInMs = undefined;
    const client = this.#client;
    if (!client) return;
    // A broker that does not answer (a link gone dead) must not hold up a shutdown: the
    // goodbye (which waits for its PUBACK) and the disconnect share one time limit.
    let timer: NodeJS.Timeout | undefined;
    const goodbye = async () => {
      if (this.#connected)
        await this.publishTo('receiverState', JSON.stringify(this.#state(false, reason))).catch((error: unknown) => {
          this.stats.lastError = String(error);
        });
      this.#connected = false;
      return client.endAsync().then(
        () => true,
        () => false,
      );
    };
    const ended = await Promise.race([
      goodbye(),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#connected = false;
    if (!ended) client.end(true);
  }

  /**
   * The power is cut: the connection ends where it stands, with no goodbye and no MQTT
   * DISCONNECT, so the broker learns of it as of a dead radio link (its keepalive, then
   * the last will). For the simulator's power loss; a real receiver simply stops.
   */
  drop(): void {
    this.#closing = true;
    this.#clearTimers();
    this.stats.nextRetryInMs = undefined;
    this.#connected = false;
    const client = this.#client;
    if (!client) return;
    client.stream?.destroy();
    client.end(true);
  }

  #state(online: boolean, reason: ReceiverState['reason']): ReceiverState {
    return {
      v: 1,
      receiverId: this.o.receiverId,
      online,
      at: this.o.clock.now(),
      reason,
      agentVersion: this.o.agentVersion,
      bootId: this.o.bootId,
    };
  }

  #clearTimers(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    if (this.#stableTimer) this.o.clock.clearTimeout(this.#stableTimer);
    this.#timer = undefined;
    this.#stableTimer = undefined;
  }

  #attempt(): void {
    this.#timer = undefined;
    this.stats.nextRetryInMs = undefined;
    if (this.#closing) return;
    this.stats.reconnectAttempts++;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: this.o.receiverId,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 20_000,
      keepalive: this.o.keepaliveS ?? 30,
      properties: { sessionExpiryInterval: this.o.sessionExpiryS ?? SESSION_EXPIRY_S },
      will: {
        topic: topics.receiverState(this.o.receiverId),
        payload: Buffer.from(JSON.stringify(this.#state(false, 'last_will'))),
        qos: TOPIC_SPECS.receiverState.qos,
        retain: TOPIC_SPECS.receiverState.retain,
      },
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password ? { password: this.o.password } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(this.o.url, options);
    } catch (error) {
      // A malformed URL: nothing will ever emit 'close', so schedule the retry here.
      this.stats.lastError = String(error);
      this.#retryLater(false);
      return;
    }
    this.#client = client;
    let established = false;
    client.on('connect', () => {
      void this.#establish(client).then((ok) => {
        established = ok;
      });
    });
    client.on('message', (topic, payload) => this.#deliver(topic, payload));
    client.on('error', (error) => {
      this.stats.lastError = error.message;
    });
    client.on('disconnect', (packet: IDisconnectPacket) => {
      // The broker hangs up with a reason: 0x8E means another client took this id (a
      // cloned SD card?); the stability rule below keeps the two from hammering it.
      const code = packet.reasonCode ?? 0;
      this.stats.lastError =
        code === 0x8e ? 'session taken over by another client with this receiver id' : `broker disconnected: ${code}`;
    });
    client.on('close', () => {
      if (this.#client !== client) return;
      const was = this.#connected;
      this.#connected = false;
      if (this.#stableTimer) this.o.clock.clearTimeout(this.#stableTimer);
      this.#stableTimer = undefined;
      for (const reject of this.#inFlight) reject(new Error('connection lost before the broker confirmed'));
      this.#inFlight.clear();
      client.removeAllListeners('close');
      client.end(true);
      if (this.#closing) return;
      if (was) {
        this.stats.disconnects++;
        this.#emit(this.#onDisconnect, 'disconnect');
      }
      this.#retryLater(established || was);
    });
  }

  #retryLater(hadSession: boolean): void {
    if (this.#closing) return;
    const delay = this.#backoff.next();
    this.stats.nextRetryInMs = delay;
    this.o.log?.(hadSession ? 'lost the broker; reconnecting' : 'cannot reach the broker; retrying', {
      inMs: delay,
      attempt: this.#backoff.attempt,
      error: this.stats.lastError,
    });
    this.#timer = this.o.clock.setTimeout(() => this.#attempt(), delay);
  }

  /** Subscribes and announces online; resolves false (and drops the connection) if that fails. */
  async #establish(client: MqttClient): Promise<boolean> {
    try {
      const refused: string[] = [];
      const wanted = this.subscriptions();
      await client.subscribeAsync(wanted).catch((error: unknown) => {
        // A SUBACK with failure codes (the broker's ACL refused some topics): keep the
        // session for the rest, but say so; anything else is a broken connection.
        const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
        if (!granted) throw error;
        const names = Object.keys(wanted);
        granted.forEach((code, i) => {
          if ((code & 0x80) !== 0) refused.push(names[i] as string);
        });
      });
      this.stats.refusedSubscriptions = refused;
      if (this.#stale.size > 0) {
        const stale = [...this.#stale];
        this.#stale.clear();
        // Best effort: a topic the broker no longer knows is no harm.
        await client.unsubscribeAsync(stale).catch(() => {});
      }
      if (refused.length > 0) this.o.log?.('the broker refused subscriptions', { topics: refused });
      await client.publishAsync(
        topics.receiverState(this.o.receiverId),
        JSON.stringify(this.#state(true, 'connected')),
        { qos: TOPIC_SPECS.receiverState.qos, retain: TOPIC_SPECS.receiverState.retain },
      );
      if (this.#client !== client || this.#closing || !client.connected) {
        if (this.#client !== client) client.end(true);
        return false;
      }
      this.#connected = true;
      if (this.stats.connects > 0) this.stats.reconnects++;
      this.stats.connects++;
      this.stats.lastConnectedAt = this.o.clock.now();
      // Only a connection that lasts counts as success: one the broker drops at once
      // (overload, an id taken over in a loop) keeps the delays growing.
      this.#stableTimer = this.o.clock.setTimeout(() => {
        this.#stableTimer = undefined;
        if (this.#client === client && this.#connected) this.#backoff.reset();
      }, this.o.stableMs ?? STABLE_CONNECTION_MS);
      this.#emit(this.#onConnect, 'connect');
      return true;
    } catch (error) {
      this.stats.lastError = String(error);
      client.end(true);
      return false;
    }
  }

  #deliver(topic: string, payload: Buffer): void {
    const name = parseTopic(topic)?.name;
    const isCommand = name === 'receiverCommand' || name === 'areaCommand';
    for (const handler of this.#messageHandlers) this.#call(() => handler(topic, payload, name), topic);
    if (isCommand) for (const handler of this.#commandHandlers) this.#call(() => handler(topic, payload), topic);
  }

  #emit(handlers: Array<() => unknown>, what: string): void {
    for (const handler of handlers) this.#call(handler, what);
  }

  /** Runs a handler; neither its throw nor its rejection escapes into MQTT.js. */
  #call(handler: () => unknown, what: string): void {
    try {
      const result = handler();
      if (result instanceof Promise)
        result.catch((error: unknown) => this.o.log?.('link handler failed', { what, error: String(error) }));
    } catch (error) {
      this.o.log?.('link handler failed', { what, error: String(error) });
    }
  }
}
