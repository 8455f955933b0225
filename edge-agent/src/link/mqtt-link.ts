import {
  type AreaRef,
  parseTopic,
  type ReceiverState,
  receiverCommandSubscriptions,
  TOPIC_SPECS,
  type TopicName,
  topics,
} from '@loa/protocols';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import { Backoff } from './backoff.js';

/** A week: commands sent while a receiver is offline wait at the broker this long. */
export const SESSION_EXPIRY_S = 7 * 86_400;

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
  /** Topics beyond the command topics this receiver listens to (time responses, receipts). */
  extraSubscriptions?: string[];
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export type MessageHandler = (topic: string, payload: Buffer, name: TopicName | undefined) => void;

/**
 * The receiver's MQTT 5 session: a persistent session (the broker keeps QoS 1 commands
 * for it while it is away), its command subscriptions, a retained online state with a
 * last will saying offline, and reconnection with jittered exponential backoff on the
 * injected clock.
 */
export class MqttLink {
  #client: MqttClient | undefined;
  #timer: TimerHandle | undefined;
  #closing = false;
  #connected = false;
  readonly #backoff: Backoff;
  readonly #handlers: MessageHandler[] = [];
  readonly #onConnect: Array<() => void> = [];
  readonly #onDisconnect: Array<() => void> = [];
  readonly stats = { connects: 0, reconnectAttempts: 0, lastError: '' };

  constructor(private readonly o: MqttLinkOptions) {
    this.#backoff = o.backoff ?? new Backoff();
  }

  get connected(): boolean {
    return this.#connected;
  }

  onMessage(handler: MessageHandler): void {
    this.#handlers.push(handler);
  }

  onConnect(handler: () => void): void {
    this.#onConnect.push(handler);
  }

  onDisconnect(handler: () => void): void {
    this.#onDisconnect.push(handler);
  }

  /** Connects (and keeps reconnecting until closed). */
  start(): void {
    this.#closing = false;
    this.#attempt();
  }

  /** Publishes; rejects when offline (callers keep what matters in their outbox). */
  async publish(
    topic: string,
    payload: string | Buffer,
    options: { qos: 0 | 1; retain?: boolean; messageExpiryInterval?: number } = { qos: 1 },
  ): Promise<void> {
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

  readonly #inFlight = new Set<(error: Error) => void>();

  /** Says goodbye (retained offline state with the reason) and disconnects. */
  async close(reason: 'shutdown' | 'rebooting' = 'shutdown'): Promise<void> {
    this.#closing = true;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    const client = this.#client;
    if (!client) return;
    if (this.#connected) {
      await this.publish(topics.receiverState(this.o.receiverId), JSON.stringify(this.#state(false, reason)), {
        qos: 1,
        retain: true,
      }).catch(() => {});
    }
    await client.endAsync().catch(() => {});
    this.#connected = false;
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

  #attempt(): void {
    if (this.#closing) return;
    this.stats.reconnectAttempts++;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: this.o.receiverId,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
      keepalive: 30,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
      will: {
        topic: topics.receiverState(this.o.receiverId),
        payload: Buffer.from(JSON.stringify(this.#state(false, 'last_will'))),
        qos: 1,
        retain: true,
      },
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password ? { password: this.o.password } : {}),
    };
    const client = mqtt.connect(this.o.url, options);
    this.#client = client;
    let settled = false;
    client.on('connect', () => {
      settled = true;
      void this.#connectedNow(client);
    });
    client.on('message', (topic, payload) => {
      const name = parseTopic(topic)?.name;
      for (const handler of this.#handlers) {
        try {
          handler(topic, payload, name);
        } catch (error) {
          this.o.log?.('message handler failed', { topic, error: String(error) });
        }
      }
    });
    client.on('error', (error) => {
      this.stats.lastError = error.message;
    });
    client.on('close', () => {
      if (this.#client !== client) return;
      const was = this.#connected;
      this.#connected = false;
      for (const reject of this.#inFlight) reject(new Error('connection lost before the broker confirmed'));
      this.#inFlight.clear();
      if (was) for (const h of this.#onDisconnect) h();
      client.removeAllListeners('close');
      client.end(true);
      if (this.#closing) return;
      const delay = this.#backoff.next();
      this.o.log?.(settled ? 'lost the broker; reconnecting' : 'cannot reach the broker; retrying', {
        inMs: delay,
        error: this.stats.lastError,
      });
      this.#timer = this.o.clock.setTimeout(() => this.#attempt(), delay);
    });
  }

  async #connectedNow(client: MqttClient): Promise<void> {
    try {
      const subscriptions = [
        ...receiverCommandSubscriptions(this.o.receiverId, this.o.areas),
        ...(this.o.extraSubscriptions ?? []),
      ];
      await client.subscribeAsync(subscriptions, { qos: 1 });
      await client.publishAsync(
        topics.receiverState(this.o.receiverId),
        JSON.stringify(this.#state(true, 'connected')),
        {
          qos: 1,
          retain: TOPIC_SPECS.receiverState.retain,
        },
      );
      this.#connected = true;
      this.stats.connects++;
      this.#backoff.reset();
      for (const h of this.#onConnect) h();
    } catch (error) {
      this.stats.lastError = String(error);
      client.end(true);
    }
  }
}
