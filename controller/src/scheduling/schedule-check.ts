import { LanguageCodeSchema } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import type { Principal } from '../access/principal.js';
import { requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { Role } from '../generated/prisma/client.js';
import { notFound, Problem } from '../http/problem.js';
import { findConflicts } from './conflicts.js';
import { DEFAULT_HORIZON_MS } from './horizon.js';
import { isValidZone } from './local-time.js';
import { expandAirtimes, RecurrenceError } from './recurrence.js';
import { resolveTargets } from './targets.js';

export const SCHEDULING_ROLES: readonly Role[] = ['official', 'emergency'];
const EMERGENCY_ROLES: readonly Role[] = ['emergency'];

const LocalTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?$',
  description: 'Local wall-clock time',
});

/** Seconds of silence or no data after which a relay counts as dead air, unless the schedule says. */
export const DEFAULT_DEAD_AIR_S = 10;

export const ScheduleInput = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    contentId: Type.String({ format: 'uuid' }),
    startLocal: LocalTime,
    timezone: Type.String({ default: 'Asia/Ho_Chi_Minh' }),
    rrule: Type.Optional(
      Type.String({ maxLength: 500, description: 'RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO' }),
    ),
    exdates: Type.Array(LocalTime, { default: [], maxItems: 1000 }),
    validFrom: Type.Optional(Type.String({ format: 'date-time' })),
    validUntil: Type.Optional(Type.String({ format: 'date-time' })),
    durationMs: Type.Integer({
      minimum: 1000,
      maximum: 24 * 3600_000,
      description:
        "Length of each airtime; for a relay the window the stream is relayed (the fallback content's length plays no part)",
    }),
    priority: Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')]),
    startMode: Type.Union([Type.Literal('hard'), Type.Literal('next'), Type.Literal('wait')]),
    waitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    volume: Type.Integer({ minimum: 0, maximum: 100 }),
    repeat: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
    prelude: Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')], { default: 'chime' }),
    languages: Type.Array(LanguageCodeSchema, {
      default: [],
      description: 'Empty: every language of the target village',
    }),
    targets: Type.Object(
      {
        areas: Type.Array(Type.String(), { default: [], maxItems: 500 }),
        receivers: Type.Array(Type.String(), { default: [], maxItems: 5000 }),
      },
      { additionalProperties: false },
    ),
    relayUrl: Type.Optional(
      Type.String({
        maxLength: 2048,
        // No spaces or control characters: the URL is handed to ffmpeg as it is.
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\u0000-\\u001f\\u007f]+$',
        description:
          'Makes this a relay: the controller rebroadcasts this http(s) audio stream (MP3, AAC, Ogg) live over each airtime; the content is then the fallback aired during dead air',
      }),
    ),
    deadAirS: Type.Optional(
      Type.Integer({
        minimum: 3,
        maximum: 300,
        description: `Relay only: seconds of silence or no data that count as dead air (default ${DEFAULT_DEAD_AIR_S})`,
      }),
    ),
    acceptConflicts: Type.Boolean({ default: false, description: 'Save even if conflicts are found' }),
  },
  { additionalProperties: false },
);
export type ScheduleInput = Static<typeof ScheduleInput>;

export const ConflictSchema = Type.Object({
  scheduleId: Type.String(),
  title: Type.String(),
  priority: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  receivers: Type.Integer(),
});
export const CheckResult = Type.Object({
  airtimes: Type.Integer({ description: 'Airtimes within the horizon' }),
  receivers: Type.Integer(),
  conflicts: Type.Array(ConflictSchema),
});

/** Everything a new schedule must satisfy before it may be saved. */
export async function checkSchedule(
  db: Database,
  principal: Principal,
  input: ScheduleInput,
  now: Date,
  excludeScheduleId?: string,
) {
  if (input.targets.areas.length + input.targets.receivers.length === 0) {
    throw new Problem(400, 'Bad Request', 'give at least one target area or receiver');
  }
  if (!isValidZone(input.timezone)) throw new Problem(400, 'Bad Request', `unknown time zone ${input.timezone}`);
  if (input.startMode === 'wait' && input.waitS === undefined)
    throw new Problem(400, 'Bad Request', 'startMode wait needs waitS');
  checkRelay(input);
  const content = await db.content.findUnique({ where: { id: input.contentId }, include: { ownerArea: true } });
  if (!content) throw notFound(`no content ${input.contentId}`);
  requireScope(principal, [...SCHEDULING_ROLES, 'technician'], content.ownerArea);
  const targets = await resolveTargets(db, input.targets);
  requireTargetScope(principal, input.priority, targets);
  const spec = {
    startLocal: input.startLocal,
    timezone: input.timezone,
    rrule: input.rrule ?? null,
    exdates: input.exdates,
    validFrom: input.validFrom ? new Date(input.validFrom) : null,
    validUntil: input.validUntil ? new Date(input.validUntil) : null,
    durationMs: input.durationMs,
  };
  let airtimes: ReturnType<typeof expandAirtimes>;
  try {
    airtimes = expandAirtimes(spec, now, new Date(now.getTime() + DEFAULT_HORIZON_MS));
  } catch (error) {
    if (error instanceof RecurrenceError) throw new Problem(400, 'Bad Request', error.message);
    throw error;
  }
  const conflicts = await findConflicts(db, {
    airtimes,
    receiverIds: targets.receiverIds,
    priority: input.priority,
    ...(excludeScheduleId ? { excludeScheduleId } : {}),
  });
  const ownerAreaId = (targets.areas[0]?.id ?? targets.receivers[0]?.village.id) as string;
  return { spec, airtimes, targets, conflicts, ownerAreaId };
}

/** The schedule's columns from a checked input (create and replace write the same). */
export function scheduleData(input: ScheduleInput, checked: Awaited<ReturnType<typeof checkSchedule>>) {
  return {
    title: input.title,
    contentId: input.contentId,
    ownerAreaId: checked.ownerAreaId,
    startLocal: input.startLocal,
    timezone: input.timezone,
    rrule: input.rrule ?? null,
    exdates: input.exdates,
    validFrom: checked.spec.validFrom,
    validUntil: checked.spec.validUntil,
    durationMs: input.durationMs,
    priority: input.priority,
    startMode: input.startMode,
    waitS: input.waitS ?? null,
    volume: input.volume,
    repeat: input.repeat,
    prelude: input.prelude,
    languages: input.languages,
    relayUrl: input.relayUrl ?? null,
    deadAirS: input.relayUrl ? (input.deadAirS ?? DEFAULT_DEAD_AIR_S) : null,
  };
}

/**
 * A relay's fields must make sense together: an http(s) URL the controller can pull
 * (checked beyond the schema's pattern: a host, no other scheme), dead air only with a
 * relay, and a prelude a live session can sound (none or the chime).
 */
function checkRelay(input: ScheduleInput): void {
  if (input.relayUrl === undefined) {
    if (input.deadAirS !== undefined)
      throw new Problem(400, 'Bad Request', 'deadAirS is only for a relay: give relayUrl too');
    return;
  }
  let url: URL;
  try {
    url = new URL(input.relayUrl);
  } catch {
    throw new Problem(400, 'Bad Request', `relayUrl is not a valid URL: ${input.relayUrl.slice(0, 200)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
    throw new Problem(
      400,
      'Bad Request',
      'relayUrl must be an http:// or https:// URL with a host, e.g. http://radio.example.vn:8000/vov1.mp3',
    );
  if (input.prelude === 'siren')
    throw new Problem(400, 'Bad Request', "a relay's prelude is none or chime (a siren belongs to alerts)");
}

/** Scheduling onto targets needs a scheduling role covering each (emergency priority: the emergency role). */
export function requireTargetScope(
  principal: Principal,
  priority: string,
  targets: {
    areas: Array<{ path: string; code: string }>;
    receivers: Array<{ village: { path: string; code: string } }>;
  },
): void {
  const roles = priority === 'emergency' ? EMERGENCY_ROLES : SCHEDULING_ROLES;
  for (const area of targets.areas) requireScope(principal, roles, area);
  for (const receiver of targets.receivers) requireScope(principal, roles, receiver.village);
}

/** A save with unaccepted conflicts is refused with them (409), so the caller can decide. */
export function refuseUnacceptedConflicts(conflicts: unknown[], accepted: boolean): void {
  if (conflicts.length > 0 && !accepted)
    throw new Problem(
      409,
      'Conflict',
      `${conflicts.length} conflicting airtimes; resend with acceptConflicts to save anyway`,
      { conflicts },
    );
}
