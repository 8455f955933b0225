import { type AckEvent, decodeReceiverEvent, parseTopic, topicFilter } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';

/** A command seen on the wire, kept as sent (for replay and tampering). */
export interface SeenCommand {
  topic: string;
  payload: Buffer;
  seenAt: number;
}

/**
 * Watches the broker as an outsider would: every command the controller sends to areas
 * (kept, so a scenario can replay or tamper with a real one) and every acknowledgement
 * receivers report (so refusals are counted on the wire, not inside the agent).
 */
export class WireObserver {
  /** Commands others (the controller) sent to areas, in the order seen. */
  readonly commands: SeenCommand[] = [];
  readonly acks: Array<AckEvent & { seenAt: number }> = [];
  /** What this observer injected itself (it hears its own publications too). */
  readonly #injected = new Set<string>();

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
    if (parsed?.name === 'areaCommand') {
      if (!this.#injected.has(payload.toString('base64'))) this.commands.push({ topic, payload, seenAt: Date.now() });
    } else if (parsed?.name === 'receiverEvents') {
      const event = decodeReceiverEvent(payload);
      if (event.ok && event.value.type === 'ack') this.acks.push({ ...event.value, seenAt: Date.now() });
    }
  }
}
