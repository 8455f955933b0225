import rrulePkg from 'rrule';
import { parseLocal, utcToWall, wallToUtc } from './local-time.js';

const { RRule } = rrulePkg;

export interface RecurringSpec {
  /** First airtime as local wall-clock time, e.g. "2026-11-23T06:30:00". */
  startLocal: string;
  timezone: string;
  /** RFC 5545 RRULE body without DTSTART ("FREQ=DAILY;BYDAY=MO"); null for a one-off. */
  rrule: string | null;
  /** Local wall-clock times of skipped recurrences. */
  exdates: string[];
  validFrom: Date | null;
  validUntil: Date | null;
  durationMs: number;
}

export interface Airtime {
  startsAt: Date;
  endsAt: Date;
}

export class RecurrenceError extends Error {}

/** Parses and checks an RRULE body; throws RecurrenceError with the reason. */
export function parseRule(rule: string) {
  if (/DTSTART|TZID/i.test(rule))
    throw new RecurrenceError('give the first airtime as startLocal, not DTSTART/TZID in the rule');
  try {
    const options = RRule.parseString(rule.replace(/^RRULE:/i, ''));
    if (options.freq === undefined) throw new RecurrenceError('the rule needs FREQ');
    if (options.freq > RRule.DAILY) throw new RecurrenceError('rules more frequent than daily are not allowed');
    return options;
  } catch (error) {
    if (error instanceof RecurrenceError) throw error;
    throw new RecurrenceError(`invalid RRULE: ${(error as Error).message}`);
  }
}

/**
 * Airtimes of a schedule that start within [from, to). The rule is expanded in local
 * wall-clock time (as "floating" dates) and each result converted to UTC, so "06:30
 * every day" stays 06:30 local across month and year boundaries and any offset change.
 */
export function expandAirtimes(spec: RecurringSpec, from: Date, to: Date, limit = 10_000): Airtime[] {
  const start = parseLocal(spec.startLocal);
  if (!start) throw new RecurrenceError(`invalid startLocal ${JSON.stringify(spec.startLocal)}`);
  const lower = new Date(Math.max(from.getTime(), spec.validFrom?.getTime() ?? Number.NEGATIVE_INFINITY));
  const upper = new Date(Math.min(to.getTime(), spec.validUntil?.getTime() ?? Number.POSITIVE_INFINITY));
  if (lower >= upper) return [];

  const excluded = new Set(
    spec.exdates.map((e) => {
      const parsed = parseLocal(e);
      if (!parsed) throw new RecurrenceError(`invalid exdate ${JSON.stringify(e)}`);
      return parsed.wall.getTime();
    }),
  );
  let walls: Date[];
  if (spec.rrule) {
    const rule = new RRule({ ...parseRule(spec.rrule), dtstart: start.wall });
    // Widen the wall-clock window by a day each side, then filter exactly in UTC.
    walls = rule.between(
      new Date(utcToWall(lower, spec.timezone).getTime() - 86_400_000),
      new Date(utcToWall(upper, spec.timezone).getTime() + 86_400_000),
      true,
    );
  } else {
    walls = [start.wall];
  }
  const airtimes: Airtime[] = [];
  for (const wall of walls) {
    if (excluded.has(wall.getTime())) continue;
    const startsAt = wallToUtc(wall, spec.timezone);
    if (startsAt < lower || startsAt >= upper) continue;
    airtimes.push({ startsAt, endsAt: new Date(startsAt.getTime() + spec.durationMs) });
    if (airtimes.length >= limit) break;
  }
  return airtimes;
}
