import {
  answerTimeRequest,
  decodeMessage,
  formatIssues,
  parseTopic,
  type SigningKey,
  sharedSubscription,
  TimeRequest,
  TOPIC_SPECS,
  topicFilter,
  topics,
} from '@loa/protocols';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';

export interface TimeServerOptions {
  mqttUrl: string;
  /** The controller's signing key: receivers trust only answers it signed. */
  key: SigningKey;
  /** Shared-subscription group: instances in one group split the requests. */
  group?: string;
  clientId?: string;
  /** The controller's clock (tests shift it). */
  now?: () => number;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export type TimeRejection = 'unknown_topic' | 'malformed' | 'spoofed_id' | 'retained' | 'internal_error';

export interface TimeServerStats {
  answered: number;
  /** Requests not answered, all reasons together. */
  rejected: number;
  byReason: Partial<Record<TimeRejection, number>>;
  /** Answers the broker connection failed to take. */
  sendFailures: number;
  lastError: string;
}

const REQUEST = TOPIC_SPECS.timeRequest;
const RESPONSE = TOPIC_SPECS.timeResponse;
/** A time request is four small fields; anything bigger is not one. */
const MAX_REQUEST_BYTES = 1024;

/**
 * The controller's time service (kept apart from control, as in Snapcast): answers each
 * receiver's time request with a signed response bound to its nonce, t1 taken when the
 * request arrives and t2 when the answer is signed, just before it is sent. Instances
 * share the requests through an MQTT 5 shared subscription. Malformed requests are
 * counted and logged, never fatal.
 */
export class TimeServer {
  #client: MqttClient | undefined;
  readonly stats: TimeServerStats = { answered: 0, rejected: 0, byReason: {}, sendFailures: 0, lastError: '' };
  readonly #now: () => number;
  readonly #group: string;

  constructor(private readonly o: TimeServerOptions) {
    this.#now = o.now ?? Date.now;
    // Checked here, so a bad group fails at start-up rather than at subscribe time.
    this.#group = o.group ?? 'loa-controller';
    sharedSubscription(this.#group, topicFilter('timeRequest'));
  }

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.o.mqttUrl, {
      protocolVersion: 5,
      ...(this.o.clientId ? { clientId: this.o.clientId } : {}),
      clean: true,
      reconnectPeriod: 1000,
    });
    this.#client = client;
    // Refused reconnects while the broker restarts; MQTT.js retries every second and
    // subscribes again once it is back.
    client.on('error', (error) => {
      this.stats.lastError = error.message;
    });
    client.on('message', (topic, payload, packet) => this.#handle(client, topic, payload, packet));
    await client.subscribeAsync(sharedSubscription(this.#group, topicFilter('timeRequest')), { qos: REQUEST.qos });
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync().catch(() => {});
  }

  #handle(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const t1 = this.#now();
    try {
      const refusal = this.#answer(client, topic, payload, packet, t1);
      if (refusal) this.#reject(refusal.reason, topic, refusal.detail);
    } catch (error) {
      this.#reject('internal_error', topic, String(error));
    }
  }

  /** Answers a good request; says why it did not otherwise. */
  #answer(
    client: MqttClient,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    t1: number,
  ): { reason: TimeRejection; detail?: string } | undefined {
    const parsed = parseTopic(topic);
    if (parsed?.name !== 'timeRequest') return { reason: 'unknown_topic' };
    // A retained request is old by definition; answering it on every resubscribe helps no one.
    if (packet.retain) return { reason: 'retained' };
    const request = decodeMessage(TimeRequest, payload, { maxBytes: MAX_REQUEST_BYTES });
    if (!request.ok) return { reason: 'malformed', detail: formatIssues(request.errors) };
    if (request.value.receiverId !== parsed.receiverId) return { reason: 'spoofed_id' };
    const answer = answerTimeRequest(request.value, t1, this.o.key, this.#now);
    this.stats.answered++;
    client
      .publishAsync(topics.timeResponse(parsed.receiverId), JSON.stringify(answer), {
        qos: RESPONSE.qos,
        ...(typeof RESPONSE.messageExpiryS === 'number'
          ? { properties: { messageExpiryInterval: RESPONSE.messageExpiryS } }
          : {}),
      })
      .catch((error: unknown) => {
        this.stats.sendFailures++;
        this.stats.lastError = String(error);
      });
    return undefined;
  }

  #reject(reason: TimeRejection, topic: string, detail?: string): void {
    this.stats.rejected++;
    this.stats.byReason[reason] = (this.stats.byReason[reason] ?? 0) + 1;
    this.o.log?.('rejected time request', { reason, topic, ...(detail ? { detail: detail.slice(0, 500) } : {}) });
  }
}
