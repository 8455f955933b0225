import { AREA_CODE_PATTERN, RECEIVER_ID_PATTERN, SESSION_ID_PATTERN } from '../messages/common.js';
import { AREA_LEVELS } from '../vocabulary/area-levels.js';

/** Every topic lives under this versioned root; v2 would live beside it. */
export const TOPIC_ROOT = 'loa/v1';

export type TopicName =
  | 'receiverCommand'
  | 'areaCommand'
  | 'receiverState'
  | 'receiverTelemetry'
  | 'receiverEvents'
  | 'receiverEventReceipts'
  | 'receiverLogs'
  | 'timeRequest'
  | 'timeResponse'
  | 'liveAudio';

export type Party = 'controller' | 'receiver';

export interface TopicSpec {
  name: TopicName;
  /** Levels below the root; `{param}` marks a variable level. */
  pattern: string;
  params: Record<string, RegExp>;
  qos: 0 | 1;
  retain: boolean;
  publisher: Party;
  subscriber: Party;
  /** The payload schema's $id, or 'LivePacket' for the binary live audio format. */
  payload: string;
  /** MQTT 5 message expiry the publisher sets, in seconds (null: none). */
  messageExpiryS: number | 'from-envelope' | null;
  summary: string;
}

const receiverId = new RegExp(RECEIVER_ID_PATTERN);
const areaCode = new RegExp(AREA_CODE_PATTERN);
const sessionId = new RegExp(SESSION_ID_PATTERN);
const areaLevel = new RegExp(`^(${AREA_LEVELS.join('|')})$`);

/** The MQTT API, one entry per topic. Builders, parser, ACLs and AsyncAPI derive from it. */
export const TOPIC_SPECS: Record<TopicName, TopicSpec> = {
  receiverCommand: {
    name: 'receiverCommand',
    pattern: 'cmd/rx/{receiverId}',
    params: { receiverId },
    qos: 1,
    retain: false,
    publisher: 'controller',
    subscriber: 'receiver',
    payload: 'CommandEnvelope',
    messageExpiryS: 'from-envelope',
    summary: 'Signed commands for one receiver (exceptions to area-wide commands).',
  },
  areaCommand: {
    name: 'areaCommand',
    pattern: 'cmd/{level}/{areaCode}',
    params: { level: areaLevel, areaCode },
    qos: 1,
    retain: false,
    publisher: 'controller',
    subscriber: 'receiver',
    payload: 'CommandEnvelope',
    messageExpiryS: 'from-envelope',
    summary:
      'Signed commands for every receiver in an area. A receiver subscribes to its village and each ancestor, so one publish reaches a whole province, district, commune or village.',
  },
  receiverState: {
    name: 'receiverState',
    pattern: 'rx/{receiverId}/state',
    params: { receiverId },
    qos: 1,
    retain: true,
    publisher: 'receiver',
    subscriber: 'controller',
    payload: 'ReceiverState',
    messageExpiryS: null,
    summary: 'Online state, retained; the MQTT last will publishes online=false here.',
  },
  receiverTelemetry: {
    name: 'receiverTelemetry',
    pattern: 'rx/{receiverId}/telemetry',
    params: { receiverId },
    qos: 0,
    retain: false,
    publisher: 'receiver',
    subscriber: 'controller',
    payload: 'Telemetry',
    messageExpiryS: 300,
    summary: 'Periodic health report; doubles as the presence heartbeat.',
  },
  receiverEvents: {
    name: 'receiverEvents',
    pattern: 'rx/{receiverId}/events',
    params: { receiverId },
    qos: 1,
    retain: false,
    publisher: 'receiver',
    subscriber: 'controller',
    payload: 'ReceiverEvent',
    messageExpiryS: null,
    summary: 'Acknowledgements and refusals, proof of play, faults and cache state.',
  },
  receiverEventReceipts: {
    name: 'receiverEventReceipts',
    pattern: 'rx/{receiverId}/events/receipts',
    params: { receiverId },
    qos: 1,
    retain: false,
    publisher: 'controller',
    subscriber: 'receiver',
    payload: 'EventReceipts',
    messageExpiryS: 3600,
    summary:
      'The controller names the events it has stored; the receiver then drops them from its outbox (until then it sends them again).',
  },
  receiverLogs: {
    name: 'receiverLogs',
    pattern: 'rx/{receiverId}/logs',
    params: { receiverId },
    qos: 1,
    retain: false,
    publisher: 'receiver',
    subscriber: 'controller',
    payload: 'ReceiverLogs',
    messageExpiryS: 3600,
    summary: "The receiver's newest log lines, sent in answer to a signed device.logs command.",
  },
  timeRequest: {
    name: 'timeRequest',
    pattern: 'rx/{receiverId}/time/request',
    params: { receiverId },
    qos: 0,
    retain: false,
    publisher: 'receiver',
    subscriber: 'controller',
    payload: 'TimeRequest',
    messageExpiryS: 10,
    summary: 'Clock synchronisation request (NTP-style t0).',
  },
  timeResponse: {
    name: 'timeResponse',
    pattern: 'rx/{receiverId}/time/response',
    params: { receiverId },
    qos: 0,
    retain: false,
    publisher: 'controller',
    subscriber: 'receiver',
    payload: 'TimeResponse',
    messageExpiryS: 10,
    summary: 'Signed clock synchronisation answer bound to the request nonce.',
  },
  liveAudio: {
    name: 'liveAudio',
    pattern: 'live/{sessionId}/audio',
    params: { sessionId },
    qos: 0,
    retain: false,
    publisher: 'controller',
    subscriber: 'receiver',
    payload: 'LivePacket',
    messageExpiryS: 5,
    summary: 'Signed Opus packets of one live session (binary; see protocols/README.md).',
  },
};
