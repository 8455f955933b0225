import { type Static, Type } from '@sinclair/typebox';
import { ItemId, Sha256Hex, UnixMs, Volume } from '../messages/common.js';
import { LanguageCodeSchema } from '../vocabulary/languages.js';
import { PrioritySchema } from '../vocabulary/priorities.js';

/** An audio file the receiver fetches ahead of airtime and verifies by SHA-256. */
export const AssetRef = Type.Object(
  {
    sha256: Sha256Hex,
    url: Type.String({ maxLength: 2048, description: 'Absolute URL, or a path on the controller' }),
    bytes: Type.Integer({ minimum: 1, maximum: 1024 * 1024 * 1024 }),
    durationMs: Type.Integer({ minimum: 1 }),
    mime: Type.Literal('audio/ogg; codecs=opus'),
  },
  { title: 'AssetRef', additionalProperties: false },
);

/** One language's audio within an item; segments play in array order. */
export const Segment = Type.Object(
  {
    language: LanguageCodeSchema,
    sha256: Sha256Hex,
    durationMs: Type.Integer({ minimum: 1 }),
  },
  { title: 'Segment', additionalProperties: false },
);

export const START_MODES = ['hard', 'next', 'wait'] as const;

/**
 * Something to air: its segments (one per language, in airing order), priority, start
 * rule and loudness. `hard` interrupts lower items at startAt; `next` starts when the
 * current item ends; `wait` waits up to waitS seconds for the current item, else skips.
 */
export const PlayableItem = Type.Object(
  {
    itemId: ItemId,
    title: Type.Optional(Type.String({ maxLength: 200 })),
    priority: PrioritySchema,
    startMode: Type.Union(START_MODES.map((m) => Type.Literal(m))),
    waitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    volume: Volume,
    repeat: Type.Integer({ minimum: 1, maximum: 100 }),
    prelude: Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')]),
    preludeSha256: Type.Optional(Sha256Hex),
    segments: Type.Array(Segment, { minItems: 1, maxItems: 32 }),
  },
  { title: 'PlayableItem', additionalProperties: false },
);

/** A playable item with its airtime, as provisioned into a receiver's schedule. */
export const ScheduledItem = Type.Composite(
  [PlayableItem, Type.Object({ startAt: UnixMs, endBy: Type.Optional(UnixMs) })],
  { title: 'ScheduledItem', additionalProperties: false },
);

export type AssetRef = Static<typeof AssetRef>;
export type Segment = Static<typeof Segment>;
export type PlayableItem = Static<typeof PlayableItem>;
export type ScheduledItem = Static<typeof ScheduledItem>;
