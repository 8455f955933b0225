import {
  AlertIssueBody,
  decodeMessage,
  decodeReceiverEvent,
  EventReceipts,
  formatIssues,
  ReceiverState,
  ScheduleProvisionBody,
  Telemetry,
  validate,
  WIRE_SCHEMAS,
} from '@loa/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { item, NOW, playEvent, provisionBody, receiverState, telemetry } from './fixtures.js';

/** A valid example of every wire schema; a new schema without an example fails here. */
const EXAMPLES: Record<string, unknown> = {
  ScheduleProvisionBody: provisionBody(),
  PlayNowBody: { item: item(), assets: [] },
  StopBody: { itemId: 'occ-1', reason: 'cancelled by the commune' },
  AlertIssueBody: {
    alertId: 'alert-1',
    revision: 0,
    status: 'Exercise',
    hazard: 'flash_flood',
    riskLevel: 3,
    priority: 'emergency',
    headline: { vie: 'Cảnh báo lũ quét', hmn: 'Ceeb toom dej nyab' },
    item: item({ itemId: 'alert-1', priority: 'emergency', prelude: 'siren' }),
    repeat: { everyS: 3600, windowStart: '07:00', windowEnd: '20:00' },
    alertExpiresAt: NOW + 86_400_000,
    maxVolume: 100,
    assets: [],
  },
  AlertCancelBody: { alertId: 'alert-1', reason: 'false alarm' },
  LiveStartBody: {
    sessionId: 'live-0001',
    priority: 'live',
    codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: 24000 },
    latencyMs: 800,
    heartbeatTimeoutMs: 3000,
    prelude: 'chime',
    volume: 90,
  },
  LiveStopBody: { sessionId: 'live-0001' },
  DeviceVolumeBody: { volume: 70 },
  DeviceTestBody: { mode: 'silent' },
  DeviceRebootBody: {},
  DeviceUpdateBody: { version: '1.2.0', url: 'https://controller/fw/1.2.0', sha256: 'c'.repeat(64), bytes: 1000 },
  DeviceConfigBody: { telemetryIntervalS: 30 },
  DeviceReloadBody: {},
  DeviceLogsBody: { maxLines: 200 },
  ReceiverLogs: { v: 1, receiverId: 'rx-1', at: NOW, commandId: 'c-1', lines: ['{"msg":"agent started"}'] },
  ReceiverState: receiverState(),
  Telemetry: telemetry(),
  AckEvent: {
    v: 1,
    eventId: crypto.randomUUID(),
    receiverId: 'rx-1',
    at: NOW,
    type: 'ack',
    commandId: 'x',
    result: 'refused',
    reason: 'expired',
  },
  PlayEvent: playEvent(),
  FaultEvent: {
    v: 1,
    eventId: crypto.randomUUID(),
    receiverId: 'rx-1',
    at: NOW,
    type: 'fault',
    code: 'speaker_line_open',
    state: 'raised',
  },
  CacheEvent: {
    v: 1,
    eventId: crypto.randomUUID(),
    receiverId: 'rx-1',
    at: NOW,
    type: 'cache',
    sha256: 'a'.repeat(64),
    state: 'ready',
    bytes: 10,
  },
  EventReceipts: { v: 1, receiverId: 'rx-1', eventIds: [crypto.randomUUID()], at: NOW },
  TimeRequest: { v: 1, receiverId: 'rx-1', nonce: 'abcdefghijklmnop', t0: NOW },
  TimeResponse: {
    v: 1,
    receiverId: 'rx-1',
    nonce: 'abcdefghijklmnop',
    t0: NOW,
    t1: NOW + 5,
    t2: NOW + 6,
    keyId: 'k'.repeat(43),
    sig: `${'A'.repeat(85)}A`,
  },
};
// JSON drops undefined properties, as the wire does.
const wire = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
const jsonType = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

describe('message schemas', () => {
  it('accept a valid example of every wire message', () => {
    for (const [id, schema] of Object.entries(WIRE_SCHEMAS)) {
      if (id === 'CommandEnvelope') continue; // covered by the signing tests
      expect(EXAMPLES[id], `example for ${id}`).toBeDefined();
      const result = validate(schema, wire(EXAMPLES[id]));
      expect(result.ok ? 'ok' : formatIssues(result.errors), id).toBe('ok');
    }
  });

  it('explain what is wrong in words that name the field', () => {
    const bad = { ...telemetry(), power: { mains: 'yes' }, extra: 1 } as unknown;
    const result = validate(Telemetry, bad);
    expect(result.ok).toBe(false);
    const text = result.ok ? '' : formatIssues(result.errors);
    expect(text).toContain('/power/mains must be boolean');
    expect(text).toContain("unknown property 'extra'");

    const provision = provisionBody();
    (provision.items[0] as { priority: string }).priority = 'urgent';
    const p = validate(ScheduleProvisionBody, provision);
    expect(p.ok ? '' : formatIssues(p.errors)).toContain('/items/0/priority is not one of the allowed values');

    const alert = validate(AlertIssueBody, { ...(EXAMPLES.AlertIssueBody as object), riskLevel: 6 });
    expect(alert.ok ? '' : formatIssues(alert.errors)).toContain('/riskLevel');
  });

  it('decode payloads with clear errors for size, encoding and syntax', () => {
    const text = (r: { ok: boolean; errors?: { message: string }[] }) =>
      r.ok ? 'ok' : (r.errors ?? []).map((e) => e.message).join();
    expect(text(decodeMessage(ReceiverState, JSON.stringify(receiverState())))).toBe('ok');
    expect(text(decodeMessage(ReceiverState, ''))).toBe('message is empty');
    expect(text(decodeMessage(ReceiverState, '{'))).toMatch(/^message is not valid JSON/);
    expect(text(decodeMessage(ReceiverState, new Uint8Array([0xc3, 0x28])))).toBe('message is not valid UTF-8');
    expect(text(decodeMessage(ReceiverState, 'x'.repeat(100), { maxBytes: 10 }))).toBe(
      'message is 100 bytes, more than the limit of 10',
    );
  });

  it('accept receipts naming 1 to 500 event ids, and nothing else', () => {
    const ids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());
    const receipts = (patch: Record<string, unknown>) => ({
      v: 1,
      receiverId: 'rx-1',
      eventIds: ids(1),
      at: NOW,
      ...patch,
    });
    const check = (patch: Record<string, unknown>) => {
      const result = validate(EventReceipts, wire(receipts(patch)));
      return result.ok ? 'ok' : formatIssues(result.errors);
    };
    expect(check({})).toBe('ok');
    expect(check({ eventIds: ids(500) })).toBe('ok');
    expect(check({ eventIds: [] })).toContain('/eventIds');
    expect(check({ eventIds: ids(501) })).toContain('/eventIds');
    expect(check({ eventIds: ['not-a-uuid'] })).toContain('/eventIds/0');
    expect(check({ eventIds: [42] })).toContain('/eventIds/0');
    expect(check({ receiverId: 'RX/1' })).toContain('/receiverId');
    expect(check({ v: 2 })).toContain('/v');
    expect(check({ at: 'yesterday' })).toContain('/at');
    expect(check({ signature: 'x' })).toContain("unknown property 'signature'");
    expect(check({ eventIds: undefined })).toContain('eventIds');
    const decoded = decodeMessage(EventReceipts, JSON.stringify(receipts({})));
    expect(decoded.ok && decoded.value.eventIds).toHaveLength(1);
  });

  it('decode events by their type and reject unknown types', () => {
    const ok = decodeReceiverEvent(JSON.stringify(playEvent()));
    expect(ok.ok && ok.value.type).toBe('play');
    const unknown = decodeReceiverEvent(JSON.stringify({ ...playEvent(), type: 'boom' }));
    expect(unknown.ok ? '' : formatIssues(unknown.errors)).toBe('/type must be one of ack, play, fault, cache');
    const wrong = decodeReceiverEvent(JSON.stringify({ ...playEvent(), state: 'exploded' }));
    expect(wrong.ok ? '' : formatIssues(wrong.errors)).toContain('/state');
  });

  it('never throw on random or mutated payloads, and reject what does not fit', () => {
    const schemas = Object.entries(WIRE_SCHEMAS);
    fc.assert(
      fc.property(fc.constantFrom(...schemas), fc.oneof(fc.jsonValue(), fc.anything()), ([, schema], value) => {
        const result = validate(schema, value);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          expect(result.errors.length).toBeLessThanOrEqual(10);
          for (const e of result.errors) expect(typeof e.message).toBe('string');
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expect(decodeReceiverEvent(bytes).ok).toBe(false);
        expect(decodeMessage(Telemetry, bytes).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('reject a valid message with any one field replaced by a value of another type', () => {
    const examples = Object.entries(EXAMPLES).filter(([id]) => id !== 'TimeResponse');
    fc.assert(
      fc.property(
        fc.constantFrom(...examples),
        fc.oneof(
          fc.constant(null),
          fc.constant([]),
          fc.constant({}),
          fc.constant('🙂'),
          fc.constant(-1.5),
          fc.constant(true),
        ),
        fc.nat(),
        ([id, example], replacement, pick) => {
          const value = wire(example) as Record<string, unknown>;
          const keys = Object.keys(value);
          const key = keys[pick % keys.length] as string;
          if (jsonType(value[key]) === jsonType(replacement)) return;
          const mutated = { ...value, [key]: replacement };
          const schema = WIRE_SCHEMAS[id];
          if (!schema) throw new Error(id);
          expect(validate(schema, mutated).ok, `${id}.${key} = ${JSON.stringify(replacement)}`).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('hold prototype-polluting keys as plain data and reject them', () => {
    const payload =
      '{"v":1,"receiverId":"rx-1","online":true,"at":1,"reason":"connected","__proto__":{"polluted":true}}';
    const result = decodeMessage(ReceiverState, payload);
    expect(result.ok).toBe(false);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
