import { type CommandEnvelope, type CommandTarget, topics } from '@loa/protocols';
import type { MqttClient } from 'mqtt';

/** The topic a command goes out on: the target area's topic, or the receiver's own. */
export function topicFor(target: CommandTarget): string {
  return target.type === 'receiver'
    ? topics.receiverCommand(target.receiverId)
    : topics.areaCommand(target.level, target.areaCode);
}

/**
 * Publishes signed commands: QoS 1, and an MQTT 5 message expiry equal to the time left
 * before the envelope expires, so a broker never delivers a stale command late.
 */
export async function publishCommand(client: MqttClient, envelope: CommandEnvelope, now = Date.now()): Promise<void> {
  const expirySeconds = Math.max(1, Math.floor((envelope.expiresAt - now) / 1000));
  await client.publishAsync(topicFor(envelope.target), JSON.stringify(envelope), {
    qos: 1,
    properties: { messageExpiryInterval: expirySeconds, contentType: 'application/json' },
  });
}
