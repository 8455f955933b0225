import {
  answerTimeRequest,
  decodeMessage,
  parseTopic,
  type SigningKey,
  sharedSubscription,
  TimeRequest,
  topicFilter,
  topics,
} from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * The controller's time service (kept apart from control, as in Snapcast): answers each
 * receiver's time request with a signed response bound to its nonce. Instances share the
 * requests through an MQTT 5 shared subscription. Malformed requests are counted, never fatal.
 */
export class TimeServer {
  #client: MqttClient | undefined;
  readonly stats = { answered: 0, rejected: 0 };

  constructor(
    private readonly o: {
      mqttUrl: string;
      key: SigningKey;
      group?: string;
      now?: () => number;
      log?: (message: string, detail?: Record<string, unknown>) => void;
    },
  ) {}

  async start(): Promise<void> {
    const now = this.o.now ?? Date.now;
    this.#client = await mqtt.connectAsync(this.o.mqttUrl, { protocolVersion: 5, clean: true, reconnectPeriod: 1000 });
    this.#client.on('message', (topic, payload) => {
      const t1 = now();
      const parsed = parseTopic(topic);
      const request = decodeMessage(TimeRequest, payload, { maxBytes: 1024 });
      if (parsed?.name !== 'timeRequest' || !request.ok || request.value.receiverId !== parsed.receiverId) {
        this.stats.rejected++;
        this.o.log?.('rejected time request', { topic });
        return;
      }
      const answer = answerTimeRequest(request.value, t1, this.o.key, now);
      this.stats.answered++;
      this.#client
        ?.publishAsync(topics.timeResponse(parsed.receiverId), JSON.stringify(answer), {
          qos: 0,
          properties: { messageExpiryInterval: 10 },
        })
        .catch(() => {});
    });
    await this.#client.subscribeAsync(
      sharedSubscription(this.o.group ?? 'loa-controller', topicFilter('timeRequest')),
      {
        qos: 0,
      },
    );
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
  }
}
