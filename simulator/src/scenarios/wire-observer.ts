import { type AckEvent, decodeReceiverEvent, parseTopic, topicFilter } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';

/** A command seen on the wire, kept as sent (for replay and tampering). */
export interface SeenCommand {
  topic: string;
  payload: Buffer;
  seenAt: number;
}

/** What the wire says of a command: its envelope's id, kind, target and body, as sent (JSON). */
export interface SeenEnvelope {
  id: string;
  kind: string;
  target: { type: 'area'; level: string; areaCode: string } | { type: 'receiver'; receiverId: string };
  body: Record<string, unknown>;
  topic: string;
  seenAt: number;
}

/**
 * Watches the broker as an outsider would: every command the controller sends to areas
 * and to single receivers (kept, so a scenario can replay or tamper with a real one, and
 * read what was really sent) and every acknowledgement receivers report (so refusals and
 * acceptances are counted on the wire, not inside the agent).
 */
export class WireObserver {
  /** Commands others (the controller) sent to areas and receivers, in the order seen. */
  readonly commands: SeenCommand[] = [];
  readonly acks: Array<AckEvent & { seenAt: number }> = [];
  /** What this observer injected itself (it hears its own publications too). */
  readonly #injected = new Set<string>();
  /** Envelopes read so far, by the command seen (each payload is parsed once). */
  readonly #read = new WeakMap<SeenCommand, Omit<SeenEnvelope, 'topic' | 'seenAt'> | null>();

  private constructor(private readonly client: MqttClient) {}

  static async start(mqttUrl: string): Promise<WireObserver> {
    const client = await mqtt.connectAsync(mqttUrl, {
      protocolVersion: 5,
      clientId: `sim-observer-${process.pid}-${Date.now()}`,
      reconnectPeriod: 500,
    });
    const observer = new WireObserver(client);
    client.on('message', (topic, payload) => observer.#onMessage(topic, payload));
    await client.subscribeAsync([topicFilter('areaCommand'), topicFilter('receiverEvents')], { qos: 1 });
    // A broker restart loses the subscription (no persistence): subscribe again.
    client.on('connect', (connack) => {
      if (!connack.sessionPresent)
        void client
          .subscribeAsync([topicFilter('areaCommand'), topicFilter('receiverEvents')], { qos: 1 })
          .catch(() => {});
    });
    return observer;
  }

  /** Refusals of one command id, by receiver. */
  refusalsOf(commandId: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const ack of this.acks)
      if (ack.commandId === commandId && ack.result === 'refused') out.set(ack.receiverId, ack.reason ?? 'unknown');
    return out;
  }

  /** Receivers that acknowledged a command id as accepted (verified, and taken to act on). */
  acceptedBy(commandId: string): Set<string> {
    const out = new Set<string>();
    for (const ack of this.acks) if (ack.commandId === commandId && ack.result === 'accepted') out.add(ack.receiverId);
    return out;
  }

  /** The commands seen of one kind, read from their envelopes (unreadable ones are left out). */
  envelopes(kind: string): SeenEnvelope[] {
    const out: SeenEnvelope[] = [];
    for (const c of this.commands) {
      let envelope = this.#read.get(c);
      if (envelope === undefined) {
        try {
          const parsed = JSON.parse(c.payload.toString('utf8'));
          envelope = typeof parsed?.body === 'object' && parsed.body !== null ? parsed : null;
        } catch {
          envelope = null;
        }
        this.#read.set(c, envelope ?? null);
      }
      if (envelope?.kind === kind) out.push({ ...envelope, topic: c.topic, seenAt: c.seenAt });
    }
    return out;
  }

  /** Publishes raw bytes on a topic, as anyone with broker access could. */
  async inject(topic: string, payload: Buffer | string): Promise<void> {
    this.#injected.add(Buffer.from(payload).toString('base64'));
    await this.client.publishAsync(topic, payload, { qos: 1, properties: { messageExpiryInterval: 300 } });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    // cmd/+/+ covers both command topics: an area's (cmd/<level>/<code>) and a receiver's (cmd/rx/<id>).
    if (parsed?.name === 'areaCommand' || parsed?.name === 'receiverCommand') {
      if (!this.#injected.has(payload.toString('base64'))) this.commands.push({ topic, payload, seenAt: Date.now() });
    } else if (parsed?.name === 'receiverEvents') {
      const event = decodeReceiverEvent(payload);
      if (event.ok && event.value.type === 'ack') this.acks.push({ ...event.value, seenAt: Date.now() });
    }
  }
}
