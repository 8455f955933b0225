import {
  controllerAcl,
  parseTopic,
  receiverAcl,
  receiverCommandSubscriptions,
  sharedSubscription,
  TOPIC_SPECS,
  TopicParamError,
  topicFilter,
  topicMatches,
  topics,
} from '@loa/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AREAS, RECEIVER } from './fixtures.js';

const receiverIds = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const areaCodes = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/);

describe('topics', () => {
  it('builds every topic under the versioned root', () => {
    expect(topics.receiverCommand('rx-1')).toBe('loa/v1/cmd/rx/rx-1');
    expect(topics.areaCommand('commune', '02707')).toBe('loa/v1/cmd/commune/02707');
    expect(topics.receiverState('rx-1')).toBe('loa/v1/rx/rx-1/state');
    expect(topics.receiverTelemetry('rx-1')).toBe('loa/v1/rx/rx-1/telemetry');
    expect(topics.receiverEvents('rx-1')).toBe('loa/v1/rx/rx-1/events');
    expect(topics.receiverEventReceipts('rx-1')).toBe('loa/v1/rx/rx-1/events/receipts');
    expect(topics.timeRequest('rx-1')).toBe('loa/v1/rx/rx-1/time/request');
    expect(topics.timeResponse('rx-1')).toBe('loa/v1/rx/rx-1/time/response');
    expect(topics.liveAudio('sess-0001')).toBe('loa/v1/live/sess-0001/audio');
  });

  it('refuses ids that would change the shape of a topic', () => {
    for (const bad of ['', 'a/b', '+', '#', 'rx 1', 'RX-1', 'a\u0000b', 'x'.repeat(65)]) {
      expect(() => topics.receiverCommand(bad), JSON.stringify(bad)).toThrow(TopicParamError);
    }
    expect(() => topics.areaCommand('hamlet' as never, '1')).toThrow(TopicParamError);
    expect(() => topics.liveAudio('short')).toThrow(TopicParamError);
  });

  it('parses what it builds, for any valid id', () => {
    fc.assert(
      fc.property(receiverIds, areaCodes, (id, code) => {
        expect(parseTopic(topics.receiverEvents(id))).toEqual({ name: 'receiverEvents', receiverId: id });
        expect(parseTopic(topics.receiverCommand(id))).toEqual({ name: 'receiverCommand', receiverId: id });
        expect(parseTopic(topics.receiverEventReceipts(id))).toEqual({ name: 'receiverEventReceipts', receiverId: id });
        expect(parseTopic(topics.areaCommand('village', code))).toEqual({
          name: 'areaCommand',
          level: 'village',
          areaCode: code,
        });
      }),
    );
  });

  it('parses nothing that is not one of its topics', () => {
    fc.assert(
      fc.property(fc.string(), (topic) => {
        const parsed = parseTopic(topic);
        if (parsed) expect(topic.startsWith('loa/v1/')).toBe(true);
      }),
    );
    for (const t of [
      'loa/v2/rx/a/state',
      'loa/v1/rx/a/state/extra',
      'loa/v1/cmd/hamlet/1',
      'loa/v1/rx/A/state',
      'loa/v1/rx/+/state',
      'loa/v1/rx/a/events/receipts/extra',
      'loa/v1/rx/a/receipts',
    ]) {
      expect(parseTopic(t), t).toBeNull();
    }
  });

  it('builds subscription filters and shared subscriptions', () => {
    expect(topicFilter('receiverEvents')).toBe('loa/v1/rx/+/events');
    expect(topicFilter('areaCommand')).toBe('loa/v1/cmd/+/+');
    expect(sharedSubscription('controllers', topicFilter('receiverEvents'))).toBe(
      '$share/controllers/loa/v1/rx/+/events',
    );
    expect(() => sharedSubscription('a/b', 'x')).toThrow(TopicParamError);
  });

  it("keeps receipts out of the controller's event ingest and events out of a receiver's receipts", () => {
    expect(topicFilter('receiverEventReceipts')).toBe('loa/v1/rx/+/events/receipts');
    expect(topicMatches(topicFilter('receiverEvents'), topics.receiverEventReceipts('rx-1'))).toBe(false);
    expect(topicMatches(topics.receiverEventReceipts('rx-1'), topics.receiverEvents('rx-1'))).toBe(false);
    expect(TOPIC_SPECS.receiverEventReceipts).toMatchObject({
      qos: 1,
      retain: false,
      publisher: 'controller',
      subscriber: 'receiver',
      payload: 'EventReceipts',
      messageExpiryS: 3600,
    });
  });

  it('matches MQTT filters as the broker does', () => {
    expect(topicMatches('loa/v1/rx/+/events', 'loa/v1/rx/a/events')).toBe(true);
    expect(topicMatches('loa/v1/rx/+/events', 'loa/v1/rx/a/b/events')).toBe(false);
    expect(topicMatches('loa/v1/cmd/#', 'loa/v1/cmd/commune/1')).toBe(true);
    expect(topicMatches('loa/v1/cmd/#', 'loa/v1/cmd')).toBe(true);
    expect(topicMatches('loa/v1/cmd/#', 'loa/v1/rx/a/state')).toBe(false);
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
  });

  it('subscribes a receiver to its own topic and its village and every ancestor', () => {
    expect(receiverCommandSubscriptions(RECEIVER, AREAS)).toEqual([
      'loa/v1/cmd/rx/rx-0001',
      'loa/v1/cmd/province/10',
      'loa/v1/cmd/district/080',
      'loa/v1/cmd/commune/02707',
      'loa/v1/cmd/village/02707-05',
    ]);
  });

  it("lets a receiver publish only as itself and read only its own and its areas' commands", () => {
    const acl = receiverAcl(RECEIVER, AREAS);
    const may = (access: 'publish' | 'subscribe', topic: string) =>
      acl.some((r) => r.access === access && topicMatches(r.topic, topic));
    expect(may('publish', topics.receiverEvents(RECEIVER))).toBe(true);
    expect(may('publish', topics.receiverState(RECEIVER))).toBe(true);
    expect(may('publish', topics.receiverEvents('rx-0002'))).toBe(false);
    expect(may('publish', topics.receiverCommand(RECEIVER))).toBe(false);
    expect(may('publish', topics.areaCommand('commune', '02707'))).toBe(false);
    expect(may('subscribe', topics.areaCommand('commune', '02707'))).toBe(true);
    expect(may('subscribe', topics.areaCommand('commune', '02708'))).toBe(false);
    expect(may('subscribe', topics.receiverCommand('rx-0002'))).toBe(false);
    expect(may('subscribe', topics.receiverEvents('rx-0002'))).toBe(false);
    expect(may('subscribe', topics.timeResponse('rx-0002'))).toBe(false);
    expect(may('subscribe', topics.receiverEventReceipts(RECEIVER))).toBe(true);
    expect(may('subscribe', topics.receiverEventReceipts('rx-0002'))).toBe(false);
    expect(may('publish', topics.receiverEventReceipts(RECEIVER))).toBe(false);
    expect(may('publish', topics.receiverEventReceipts('rx-0002'))).toBe(false);
    // Every grant is literal, except live audio: nothing reaches below a receiver's own topics.
    for (const rule of acl.filter((r) => r.topic !== topicFilter('liveAudio'))) expect(rule.topic).not.toMatch(/[+#]/);
    expect(may('subscribe', topics.liveAudio('session-1'))).toBe(true);
  });

  it('lets the controller command everyone and read what receivers publish', () => {
    const acl = controllerAcl();
    const may = (access: 'publish' | 'subscribe', topic: string) =>
      acl.some((r) => r.access === access && topicMatches(r.topic, topic));
    expect(may('publish', topics.areaCommand('province', '10'))).toBe(true);
    expect(may('publish', topics.receiverState('rx-1'))).toBe(false);
    expect(may('publish', topics.receiverEventReceipts('rx-1'))).toBe(true);
    expect(may('subscribe', topics.receiverEventReceipts('rx-1'))).toBe(true); // under rx/#, harmless
    expect(may('subscribe', topics.receiverTelemetry('rx-1'))).toBe(true);
  });

  it('declares delivery settings for every topic', () => {
    for (const spec of Object.values(TOPIC_SPECS)) {
      expect([0, 1]).toContain(spec.qos);
      expect(spec.publisher).not.toBe(spec.subscriber);
    }
    expect(TOPIC_SPECS.receiverState.retain).toBe(true);
    expect(TOPIC_SPECS.areaCommand.qos).toBe(1);
  });
});
