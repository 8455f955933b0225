import type { AreaLevel } from '../vocabulary/area-levels.js';
import { TOPIC_ROOT, TOPIC_SPECS, type TopicName } from './topic-specs.js';

export class TopicParamError extends Error {}

function build(name: TopicName, values: Record<string, string>): string {
  const spec = TOPIC_SPECS[name];
  const levels = spec.pattern.replace(/\{(\w+)\}/g, (_, param: string) => {
    const value = values[param];
    const rule = spec.params[param];
    if (value === undefined || !rule || !rule.test(value)) {
      throw new TopicParamError(`${name}: invalid ${param} ${JSON.stringify(value)}`);
    }
    return value;
  });
  return `${TOPIC_ROOT}/${levels}`;
}

/** Topic builders; each throws TopicParamError for an id that cannot be a topic level. */
export const topics = {
  receiverCommand: (receiverId: string) => build('receiverCommand', { receiverId }),
  areaCommand: (level: AreaLevel, areaCode: string) => build('areaCommand', { level, areaCode }),
  receiverState: (receiverId: string) => build('receiverState', { receiverId }),
  receiverTelemetry: (receiverId: string) => build('receiverTelemetry', { receiverId }),
  receiverEvents: (receiverId: string) => build('receiverEvents', { receiverId }),
  receiverEventReceipts: (receiverId: string) => build('receiverEventReceipts', { receiverId }),
  receiverLogs: (receiverId: string) => build('receiverLogs', { receiverId }),
  timeRequest: (receiverId: string) => build('timeRequest', { receiverId }),
  timeResponse: (receiverId: string) => build('timeResponse', { receiverId }),
  liveAudio: (sessionId: string) => build('liveAudio', { sessionId }),
};

/** Subscription filter matching a topic for every value of its parameters ('+'). */
export function topicFilter(name: TopicName): string {
  return `${TOPIC_ROOT}/${TOPIC_SPECS[name].pattern.replace(/\{\w+\}/g, '+')}`;
}

/** MQTT 5 shared subscription, so several controller instances split the ingest. */
export function sharedSubscription(group: string, filter: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(group)) throw new TopicParamError(`invalid share group ${JSON.stringify(group)}`);
  return `$share/${group}/${filter}`;
}

export type ParsedTopic =
  | { name: 'receiverCommand'; receiverId: string }
  | { name: 'areaCommand'; level: AreaLevel; areaCode: string }
  | { name: 'receiverState'; receiverId: string }
  | { name: 'receiverTelemetry'; receiverId: string }
  | { name: 'receiverEvents'; receiverId: string }
  | { name: 'receiverEventReceipts'; receiverId: string }
  | { name: 'receiverLogs'; receiverId: string }
  | { name: 'timeRequest'; receiverId: string }
  | { name: 'timeResponse'; receiverId: string }
  | { name: 'liveAudio'; sessionId: string };

const compiledPatterns = Object.values(TOPIC_SPECS).map((spec) => ({
  spec,
  levels: spec.pattern.split('/'),
}));

/** Parses a concrete topic into its name and parameters; null for anything else. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (typeof topic !== 'string' || !topic.startsWith(`${TOPIC_ROOT}/`)) return null;
  const levels = topic.slice(TOPIC_ROOT.length + 1).split('/');
  for (const { spec, levels: pattern } of compiledPatterns) {
    if (pattern.length !== levels.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    for (let i = 0; i < pattern.length && matches; i++) {
      const expected = pattern[i] as string;
      const actual = levels[i] as string;
      const param = /^\{(\w+)\}$/.exec(expected)?.[1];
      if (param) {
        matches = spec.params[param]?.test(actual) ?? false;
        params[param] = actual;
      } else {
        matches = expected === actual;
      }
    }
    if (matches) return { name: spec.name, ...params } as ParsedTopic;
  }
  return null;
}
