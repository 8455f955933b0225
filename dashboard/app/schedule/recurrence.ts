import type { TFunction } from 'i18next';

/** RFC 5545 weekday codes, Monday first as Vietnamese weeks are. */
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What the form offers; the controller takes an RRULE (daily at most, no DTSTART: the first airtime is startLocal). */
export type Repeat = { kind: 'once' } | { kind: 'daily'; interval: number } | { kind: 'weekly'; days: Weekday[] };

export function toRrule(repeat: Repeat): string | undefined {
  switch (repeat.kind) {
    case 'once':
      return undefined;
    case 'daily':
      return repeat.interval > 1 ? `FREQ=DAILY;INTERVAL=${repeat.interval}` : 'FREQ=DAILY';
    case 'weekly':
      return `FREQ=WEEKLY;BYDAY=${(repeat.days.length ? repeat.days : ['MO']).join(',')}`;
  }
}

/** A rule in words ("every day", "every week on Mon, Wed"); a rule made elsewhere is shown as it is. */
export function describeRule(t: TFunction<'schedule'>, rrule: string | null): string {
  if (!rrule) return t('repeatOnce');
  const fields = new Map(
    rrule
      .replace(/^RRULE:/i, '')
      .split(';')
      .map((part) => part.split('=') as [string, string]),
  );
  const known = new Set(['FREQ', 'INTERVAL', 'BYDAY']);
  if ([...fields.keys()].some((k) => !known.has(k.toUpperCase()))) return rrule;
  const interval = Number(fields.get('INTERVAL') ?? 1);
  const freq = fields.get('FREQ');
  if (freq === 'DAILY' && !fields.has('BYDAY'))
    return interval > 1 ? t('repeatEveryNDays', { count: interval }) : t('repeatDaily');
  if (freq === 'WEEKLY' || (freq === 'DAILY' && fields.has('BYDAY'))) {
    const days = (fields.get('BYDAY') ?? '').split(',').filter((d): d is Weekday => WEEKDAYS.includes(d as Weekday));
    if (days.length === 0 || interval !== 1) return rrule;
    return t('repeatWeeklyOn', { days: days.map((d) => t(`weekday_${d}`)).join(', ') });
  }
  return rrule;
}
