import {
  CommandSigner,
  type CommandTarget,
  decodeReceiverEvent,
  type EventReceipts,
  generateSigningKey,
  loadSigningKey,
  type ReceiverEvent,
  topicFilter,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { publishCommand } from '../../../controller/src/dispatch/command-publisher.js';

/**
 * The controller's side of the wire, as small as a test needs: signs and publishes
 * commands (through the controller's own publisher), records receivers' events and
 * receipts them, like the real ingest.
 */
export class TestController {
  readonly key = generateSigningKey();
  readonly trusted = trustedKeyFor(this.key);
  readonly signer: CommandSigner;
  readonly events: ReceiverEvent[] = [];
  readonly messages: Array<{ topic: string; payload: Buffer }> = [];
  #seq = 0;

  private constructor(readonly client: MqttClient) {
    this.signer = new CommandSigner({
      issuer: 'test-ctl',
      key: loadSigningKey(this.key),
      nextSeq: async () => ++this.#seq,
    });
    client.on('message', (topic, payload) => {
      this.messages.push({ topic, payload });
      const event = decodeReceiverEvent(payload);
      if (!event.ok) return;
      this.events.push(event.value);
      const receipts: EventReceipts = {
        v: 1,
        receiverId: event.value.receiverId,
        eventIds: [event.value.eventId],
        at: Date.now(),
      };
      void client.publishAsync(topics.receiverEventReceipts(event.value.receiverId), JSON.stringify(receipts), {
        qos: 1,
      });
      void topic;
    });
  }

  static async connect(url: string): Promise<TestController> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 200,
      clean: false,
      clientId: `ctl-${Math.random().toString(36).slice(2)}`,
      properties: { sessionExpiryInterval: 3600 },
    });
    await client.subscribeAsync(topicFilter('receiverEvents'), { qos: 1 });
    // A restarted broker without persistence has forgotten the subscription.
    client.on('connect', (connack) => {
      if (!connack.sessionPresent) void client.subscribeAsync(topicFilter('receiverEvents'), { qos: 1 });
    });
    return new TestController(client);
  }

  async send<K extends Parameters<CommandSigner['sign']>[0]['kind']>(
    kind: K,
    target: CommandTarget,
    body: Parameters<CommandSigner['sign']>[0]['body'],
    ttlMs = 3600_000,
  ) {
    const envelope = await this.signer.sign({ kind, target, body, ttlMs } as never);
    await publishCommand(this.client, envelope);
    return envelope;
  }

  /** Distinct events (by eventId) matching a filter. */
  distinct(match: (e: ReceiverEvent) => boolean): ReceiverEvent[] {
    const seen = new Map<string, ReceiverEvent>();
    for (const e of this.events) if (match(e)) seen.set(e.eventId, e);
    return [...seen.values()];
  }

  async until(check: () => boolean, ms = 10_000): Promise<void> {
    for (let waited = 0; !check() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
    if (!check()) throw new Error('timed out waiting');
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
