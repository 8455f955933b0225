import { LanguageCodeSchema, PrioritySchema } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import type { LiveSession } from '../generated/prisma/client.js';
import type { LiveBroadcast } from './live-broadcast.js';

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
export const LiveStateSchema = Type.Union([
  Type.Literal('opening'),
  Type.Literal('on_air'),
  Type.Literal('ended'),
  Type.Literal('failed'),
]);
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const LiveSessionView = Type.Object({
  id: Type.String({ description: 'Also the receivers’ item id and the audio topic’s session id' }),
  kind: Type.Union([Type.Literal('speech'), Type.Literal('relay')]),
  title: Type.String(),
  priority: PrioritySchema,
  language: Type.Union([Type.String(), Type.Null()]),
  volume: Type.Integer(),
  latencyMs: Type.Integer(),
  prelude: Type.String(),
  state: LiveStateSchema,
  areaIds: Type.Array(Type.String()),
  receiverIds: Type.Array(Type.String()),
  occurrenceId: Type.Union([Type.String(), Type.Null()]),
  relayUrl: Type.Union([Type.String(), Type.Null()]),
  createdById: Type.Union([Type.String(), Type.Null()]),
  openedAt: Type.String({ format: 'date-time' }),
  onAirAt: Time,
  endedAt: Time,
  endReason: Type.Union([Type.String(), Type.Null()]),
  framesSent: Type.Integer(),
  packetsSent: Type.Integer(),
  fallbacks: Type.Integer(),
});
export type LiveSessionView = Static<typeof LiveSessionView>;

export const OpenSessionBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    areaIds: Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, description: 'Target areas, by id' }),
    receiverIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })),
    language: Type.Optional(LanguageCodeSchema),
    volume: Type.Integer({ minimum: 0, maximum: 100, default: 80 }),
    latencyMs: Type.Integer({
      minimum: 50,
      maximum: 2000,
      default: 250,
      description: 'Receivers play each frame this long after it was captured (controller clock)',
    }),
    prelude: Type.Union([Type.Literal('none'), Type.Literal('chime')], { default: 'chime' }),
  },
  { additionalProperties: false },
);

/** A session as the API shows it; while this instance holds it, the counters are the live ones. */
export function liveSessionView(row: LiveSession, held?: LiveBroadcast): LiveSessionView {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  const stats = held?.stats();
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    priority: row.priority,
    language: row.language,
    volume: row.volume,
    latencyMs: row.latencyMs,
    prelude: row.prelude,
    state: row.state,
    areaIds: row.areaIds,
    receiverIds: row.receiverIds,
    occurrenceId: row.occurrenceId,
    relayUrl: row.relayUrl,
    createdById: row.createdById,
    openedAt: row.openedAt.toISOString(),
    onAirAt: iso(row.onAirAt) ?? (held ? new Date(held.onAirAt).toISOString() : null),
    endedAt: iso(row.endedAt),
    endReason: row.endReason,
    framesSent: stats?.framesSent ?? row.framesSent,
    packetsSent: stats?.packetsSent ?? row.packetsSent,
    fallbacks: row.fallbacks,
  };
}
