import {
  AlertStatusSchema,
  HazardSchema,
  LanguageCodeSchema,
  RISK_LEVEL_INFO,
  type RiskLevel,
  RiskLevelSchema,
} from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import type { Database } from '../database/client.js';
import type { Alert } from '../generated/prisma/client.js';
import { CircleSchema, PolygonSchema } from './alert-targets.js';
import { type ApprovalRule, needsApproval } from './approval-rule.js';

const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

/** Text per language (any of them; the keys are language codes). */
export const Texts = (maxLength: number, minProperties = 0) =>
  Type.Partial(Type.Record(LanguageCodeSchema, Type.String({ minLength: 1, maxLength })), { minProperties });

/** What an alert says and how it airs; an Update may change any of it (but never its status). */
const content = {
  hazard: HazardSchema,
  riskLevel: RiskLevelSchema,
  headline: Texts(300, 1),
  instruction: Type.Optional(Texts(2000)),
  audio: Type.Optional(
    Type.Partial(Type.Record(LanguageCodeSchema, Type.String({ pattern: '^[0-9a-f]{64}$' })), {
      description: 'Recorded audio (asset SHA-256) per language, for languages no speech engine speaks',
    }),
  ),
  audioAnnouncesStatus: Type.Optional(
    Type.Boolean({
      description:
        'For an Exercise or Test: the recorded audio itself says it is not real (needed where no speech engine can say it before the recording)',
    }),
  ),
  expiresAt: Type.String({ format: 'date-time' }),
  repeat: Type.Optional(
    Type.Object(
      {
        everyS: Type.Integer({ minimum: 60, maximum: 86_400 }),
        windowStart: Type.Optional(Type.String({ pattern: HHMM })),
        windowEnd: Type.Optional(Type.String({ pattern: HHMM })),
      },
      {
        additionalProperties: false,
        description: 'Air again every everyS seconds, within the window (Vietnam time)',
      },
    ),
  ),
  maxVolume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  escalateAfterS: Type.Optional(
    Type.Integer({
      minimum: 10,
      maximum: 3600,
      description: 'Receivers not started this long after issue are escalated (listed, and the webhook called)',
    }),
  ),
};

export const CreateAlert = Type.Object(
  {
    status: AlertStatusSchema,
    ...content,
    areas: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { maxItems: 100, uniqueItems: true, description: 'Area codes' }),
    ),
    polygons: Type.Optional(
      Type.Array(PolygonSchema, { maxItems: 20, description: 'Drawn polygons, each a ring of [lat, lon]' }),
    ),
    circles: Type.Optional(Type.Array(CircleSchema, { maxItems: 20 })),
  },
  { additionalProperties: false, description: 'At least one area, polygon or circle' },
);
export type CreateAlert = Static<typeof CreateAlert>;

export const UpdateAlert = Type.Partial(Type.Object(content, { additionalProperties: false }), {
  additionalProperties: false,
  minProperties: 1,
  description: 'What changes; the rest is carried over. Status and targets stay as they are.',
});
export type UpdateAlert = Static<typeof UpdateAlert>;

/** `expired` is shown for an issued alert past its expiry (the receivers dropped it by themselves). */
const STATES = ['draft', 'issued', 'updated', 'cancelled', 'expired'] as const;
export const AlertStateSchema = Type.Union(STATES.map((s) => Type.Literal(s)));

const PersonObject = Type.Object({ id: Type.String(), username: Type.String(), displayName: Type.String() });
const Person = (description?: string) => Type.Union([PersonObject, Type.Null()], description ? { description } : {});
export type AlertPerson = { id: string; username: string; displayName: string };

export const AlertView = Type.Object(
  {
    id: Type.String(),
    identifier: Type.String({ description: 'CAP identifier of this message' }),
    wireId: Type.String({ description: 'The alert on the receivers: the same for an alert and its Updates' }),
    references: Type.Union([Type.String(), Type.Null()], { description: 'The alert this Update replaces' }),
    status: AlertStatusSchema,
    hazard: Type.String(),
    riskLevel: Type.Integer(),
    riskColour: Type.Object({ hex: Type.String(), textHex: Type.String(), vi: Type.String(), en: Type.String() }),
    state: AlertStateSchema,
    origin: Type.String({ description: 'api, or cap (ingested)' }),
    headline: Type.Record(Type.String(), Type.String()),
    instruction: Type.Record(Type.String(), Type.String()),
    audioAnnouncesStatus: Type.Boolean(),
    areas: Type.Array(Type.String()),
    polygons: Type.Array(PolygonSchema),
    circles: Type.Array(CircleSchema),
    expiresAt: Type.String({ format: 'date-time' }),
    needsApproval: Type.Boolean({ description: 'Whether a second person must approve it before it is issued' }),
    approved: Type.Boolean(),
    createdBy: Person('Who drafted it (null: a CAP feed)'),
    approvedBy: Person(),
    approvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    issuedBy: Person(),
    cancelledBy: Person('Who cancelled it (null: not cancelled, or its CAP sender)'),
    cancelReason: Type.Union([Type.String(), Type.Null()]),
    revision: Type.Integer(),
    escalateAfterS: Type.Union([Type.Integer(), Type.Null()]),
    issuedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    cancelledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Alert' },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

type PersonIds = Pick<Alert, 'createdById' | 'approvedById' | 'issuedById' | 'cancelledById'>;

/** The people named on these alerts (drafted, approved, issued, cancelled), by id, in one query. */
export async function alertPeople(db: Database, rows: readonly PersonIds[]): Promise<Map<string, AlertPerson>> {
  const ids = new Set<string>();
  for (const r of rows)
    for (const id of [r.createdById, r.approvedById, r.issuedById, r.cancelledById]) if (id) ids.add(id);
  if (ids.size === 0) return new Map();
  const users = await db.user.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, username: true, displayName: true },
  });
  return new Map(users.map((u) => [u.id, u]));
}

/** An alert as the API shows it (`people` from alertPeople; someone not found there is null). */
export function alertView(
  approval: ApprovalRule,
  row: Alert,
  now = new Date(),
  people: ReadonlyMap<string, AlertPerson> = new Map(),
) {
  const person = (id: string | null) => (id ? (people.get(id) ?? null) : null);
  const polygons = row.polygons as Static<typeof PolygonSchema>[];
  const circles = row.circles as Static<typeof CircleSchema>[];
  const info = RISK_LEVEL_INFO[row.riskLevel as RiskLevel];
  return {
    id: row.id,
    identifier: row.identifier,
    wireId: row.wireId,
    references: row.referencesId,
    status: row.status,
    hazard: row.hazard,
    riskLevel: row.riskLevel,
    riskColour: { hex: info.hex, textHex: info.textHex, vi: info.colour.vi, en: info.colour.en },
    state: row.state === 'issued' && row.expiresAt <= now ? ('expired' as const) : row.state,
    origin: row.origin,
    headline: row.headline as Record<string, string>,
    instruction: row.instruction as Record<string, string>,
    audioAnnouncesStatus: row.audioAnnouncesStatus,
    areas: row.areaCodes,
    polygons,
    circles,
    expiresAt: row.expiresAt.toISOString(),
    needsApproval: needsApproval(approval, row.status, row.reachLevels),
    approved: row.approvedById !== null,
    createdBy: person(row.createdById),
    approvedBy: person(row.approvedById),
    approvedAt: row.approvedAt?.toISOString() ?? null,
    issuedBy: person(row.issuedById),
    cancelledBy: person(row.cancelledById),
    cancelReason: row.cancelReason,
    revision: row.revision,
    escalateAfterS: row.escalateAfterS,
    issuedAt: row.issuedAt?.toISOString() ?? null,
    cancelledAt: row.cancelledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
