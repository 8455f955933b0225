import { type Static, type TObject, Type } from '@sinclair/typebox';
import { RefusalReasonSchema } from '../signing/reasons.js';
import { LanguageCodeSchema } from '../vocabulary/languages.js';
import { PrioritySchema } from '../vocabulary/priorities.js';
import { ItemId, ReceiverId, Sha256Hex, ShortText, UnixMs, Uuid, VersionField } from './common.js';
import { FaultCodeSchema } from './faults.js';

/** Fields every event carries; `eventId` makes ingest idempotent (QoS 1 may redeliver). */
const eventHead = {
  v: VersionField,
  eventId: Uuid,
  receiverId: ReceiverId,
  at: UnixMs,
};

/** A command was verified and accepted, refused (with its reason), or carried out. */
export const AckEvent = Type.Object(
  {
    ...eventHead,
    type: Type.Literal('ack'),
    commandId: Type.String({ maxLength: 64, description: 'Envelope id; may be unparseable junk for refusals' }),
    result: Type.Union([
      Type.Literal('accepted'),
      Type.Literal('refused'),
      Type.Literal('done'),
      Type.Literal('failed'),
    ]),
    reason: Type.Optional(RefusalReasonSchema),
    detail: Type.Optional(ShortText),
  },
  { $id: 'AckEvent', additionalProperties: false },
);

export const PLAY_STATES = ['started', 'finished', 'interrupted', 'failed', 'skipped', 'missed'] as const;

/** Proof of play: what actually happened to an item on this receiver, and when. */
export const PlayEvent = Type.Object(
  {
    ...eventHead,
    type: Type.Literal('play'),
    itemId: ItemId,
    source: Type.Union([
      Type.Literal('schedule'),
      Type.Literal('alert'),
      Type.Literal('live'),
      Type.Literal('play_now'),
      Type.Literal('test'),
    ]),
    state: Type.Union(PLAY_STATES.map((s) => Type.Literal(s))),
    priority: PrioritySchema,
    scheduledAt: Type.Optional(UnixMs),
    language: Type.Optional(LanguageCodeSchema),
    repetition: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    interruptedBy: Type.Optional(ItemId),
    reason: Type.Optional(ShortText),
    playedMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: 'PlayEvent', additionalProperties: false },
);

/** A fault was raised (latched) or cleared. */
export const FaultEvent = Type.Object(
  {
    ...eventHead,
    type: Type.Literal('fault'),
    code: FaultCodeSchema,
    state: Type.Union([Type.Literal('raised'), Type.Literal('cleared')]),
    detail: Type.Optional(ShortText),
  },
  { $id: 'FaultEvent', additionalProperties: false },
);

/** Content cache progress for one asset. */
export const CacheEvent = Type.Object(
  {
    ...eventHead,
    type: Type.Literal('cache'),
    sha256: Sha256Hex,
    state: Type.Union([Type.Literal('ready'), Type.Literal('failed'), Type.Literal('evicted')]),
    bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    reason: Type.Optional(ShortText),
  },
  { $id: 'CacheEvent', additionalProperties: false },
);

/** Each event type and its schema; the tag is the `type` field. */
export const EVENT_SCHEMAS = {
  ack: AckEvent,
  play: PlayEvent,
  fault: FaultEvent,
  cache: CacheEvent,
} as const satisfies Record<string, TObject>;

export const ReceiverEvent = Type.Union(Object.values(EVENT_SCHEMAS), { title: 'ReceiverEvent' });

export type AckEvent = Static<typeof AckEvent>;
export type PlayEvent = Static<typeof PlayEvent>;
export type FaultEvent = Static<typeof FaultEvent>;
export type CacheEvent = Static<typeof CacheEvent>;
export type ReceiverEvent = AckEvent | PlayEvent | FaultEvent | CacheEvent;
export type ReceiverEventType = keyof typeof EVENT_SCHEMAS;

/**
 * The controller's receipt for events it has stored (or had stored before: a repeat is
 * receipted again). A receiver keeps each event in its outbox until it appears here.
 * Unsigned: only the controller may publish on this topic (broker ACL), and a receipt can
 * only make a receiver forget a report, never act.
 */
export const EventReceipts = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    eventIds: Type.Array(Uuid, { minItems: 1, maxItems: 500 }),
    at: UnixMs,
  },
  { $id: 'EventReceipts', additionalProperties: false },
);
export type EventReceipts = Static<typeof EventReceipts>;
