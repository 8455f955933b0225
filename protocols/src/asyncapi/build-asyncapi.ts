import { COMMAND_BODIES } from '../commands/bodies.js';
import { EVENT_SCHEMAS } from '../messages/events.js';
import { WIRE_SCHEMAS } from '../messages/registry.js';
import { TOPIC_ROOT, TOPIC_SPECS } from '../topics/topic-specs.js';
import { plainJsonSchema } from './plain-json-schema.js';

const MESSAGE_TITLES: Record<string, string> = {
  CommandEnvelope: 'Signed command',
  ReceiverState: 'Receiver online state',
  Telemetry: 'Telemetry and heartbeat',
  ReceiverEvent: 'Receiver event',
  TimeRequest: 'Time request',
  TimeResponse: 'Signed time response',
  LivePacket: 'Live audio packet',
};

/**
 * The AsyncAPI 3 document of the MQTT API, generated from the topic table and the
 * message schemas so it cannot drift from the code. Operations are written from the
 * controller's side: `send` is what it publishes, `receive` what it consumes.
 */
export function buildAsyncApi(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(WIRE_SCHEMAS)) schemas[id] = plainJsonSchema(schema);
  schemas.ReceiverEvent = {
    description: 'One of the receiver events, told apart by `type`',
    oneOf: Object.values(EVENT_SCHEMAS).map((s) => ({ $ref: `#/components/schemas/${s.$id as string}` })),
  };
  schemas.LivePacket = {
    type: 'string',
    format: 'binary',
    description: 'Binary signed Opus packet; layout in protocols/README.md ("Live audio packets")',
  };

  const messages: Record<string, unknown> = {};
  for (const payload of new Set(Object.values(TOPIC_SPECS).map((t) => t.payload))) {
    messages[payload] = {
      name: payload,
      title: MESSAGE_TITLES[payload] ?? payload,
      contentType: payload === 'LivePacket' ? 'application/octet-stream' : 'application/json',
      payload: { $ref: `#/components/schemas/${payload}` },
    };
  }

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const spec of Object.values(TOPIC_SPECS)) {
    const parameters = Object.fromEntries(
      Object.entries(spec.params).map(([name, rule]) => [name, { description: `${name}, matching ${rule.source}` }]),
    );
    channels[spec.name] = {
      address: `${TOPIC_ROOT}/${spec.pattern}`,
      description: spec.summary,
      parameters,
      messages: { [spec.payload]: { $ref: `#/components/messages/${spec.payload}` } },
    };
    const controllerSends = spec.publisher === 'controller';
    const expiry = typeof spec.messageExpiryS === 'number' ? { messageExpiryInterval: spec.messageExpiryS } : {};
    operations[`${controllerSends ? 'send' : 'receive'}${spec.name[0]?.toUpperCase()}${spec.name.slice(1)}`] = {
      action: controllerSends ? 'send' : 'receive',
      channel: { $ref: `#/channels/${spec.name}` },
      summary: `${spec.publisher} publishes, ${spec.subscriber} subscribes (QoS ${spec.qos}${spec.retain ? ', retained' : ''})`,
      description:
        spec.messageExpiryS === 'from-envelope'
          ? 'MQTT 5 message expiry is set to the time left until the envelope expiresAt, so a stale command never arrives late.'
          : undefined,
      messages: [{ $ref: `#/channels/${spec.name}/messages/${spec.payload}` }],
      bindings: { mqtt: { qos: spec.qos, retain: spec.retain, ...expiry } },
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Loa commune loudspeaker MQTT API',
      version: '1.0.0',
      description: [
        'The wire contract between the controller and loudspeaker receivers, over MQTT 5.',
        `All topics live under \`${TOPIC_ROOT}\`. Commands are Ed25519-signed envelopes; receivers act on nothing else.`,
        `Command kinds: ${Object.keys(COMMAND_BODIES).join(', ')}.`,
        'Generated from protocols/src; do not edit by hand (npm run generate).',
      ].join('\n\n'),
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      broker: {
        host: 'localhost:1883',
        protocol: 'mqtt',
        protocolVersion: '5',
        description: 'The MQTT 5 broker (Mosquitto); receivers authenticate with their own credentials.',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
