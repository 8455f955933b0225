import type { AreaLevel } from '../vocabulary/area-levels.js';
import { TOPIC_ROOT } from './topic-specs.js';
import { topicFilter, topics } from './topics.js';

export interface AreaRef {
  level: AreaLevel;
  areaCode: string;
}

export interface AclRule {
  /** publish: may send to the topic; subscribe: may subscribe to (and receive on) it. */
  access: 'publish' | 'subscribe';
  /** Literal topic, or a filter with MQTT wildcards. */
  topic: string;
}

/**
 * What one receiver may do on the broker: publish only as itself, and subscribe only to
 * its own command topic, its areas' command topics (its village and every ancestor), its
 * time answers, the receipts for its events and live audio (whose packets are signed).
 */
export function receiverAcl(receiverId: string, areas: readonly AreaRef[]): AclRule[] {
  return [
    { access: 'publish', topic: topics.receiverState(receiverId) },
    { access: 'publish', topic: topics.receiverTelemetry(receiverId) },
    { access: 'publish', topic: topics.receiverEvents(receiverId) },
    { access: 'publish', topic: topics.timeRequest(receiverId) },
    { access: 'publish', topic: topics.receiverLogs(receiverId) },
    { access: 'subscribe', topic: topics.receiverCommand(receiverId) },
    ...areas.map((a) => ({ access: 'subscribe' as const, topic: topics.areaCommand(a.level, a.areaCode) })),
    { access: 'subscribe', topic: topics.timeResponse(receiverId) },
    { access: 'subscribe', topic: topics.receiverEventReceipts(receiverId) },
    { access: 'subscribe', topic: topicFilter('liveAudio') },
  ];
}

/** The command topics a receiver subscribes to: its own and each of its areas'. */
export function receiverCommandSubscriptions(receiverId: string, areas: readonly AreaRef[]): string[] {
  return [topics.receiverCommand(receiverId), ...areas.map((a) => topics.areaCommand(a.level, a.areaCode))];
}

/** What the controller may do: command everyone, read everything receivers publish. */
export function controllerAcl(): AclRule[] {
  return [
    { access: 'publish', topic: `${TOPIC_ROOT}/cmd/#` },
    { access: 'publish', topic: topicFilter('timeResponse') },
    { access: 'publish', topic: topicFilter('receiverEventReceipts') },
    { access: 'publish', topic: topicFilter('liveAudio') },
    { access: 'subscribe', topic: `${TOPIC_ROOT}/rx/#` },
  ];
}

/** MQTT topic filter matching (with + and #), used to check ACLs and routing. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Wildcards at the first level never match $-topics ($SYS, $share), as in MQTT.
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i < t.length || (i === t.length && i > 0);
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
