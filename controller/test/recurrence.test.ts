import { describe, expect, it } from 'vitest';
import { expandAirtimes, RecurrenceError, type RecurringSpec } from '../src/scheduling/recurrence.js';

const HCM = 'Asia/Ho_Chi_Minh';
const spec = (over: Partial<RecurringSpec>): RecurringSpec => ({
  startLocal: '2026-12-30T06:30:00',
  timezone: HCM,
  rrule: 'FREQ=DAILY',
  exdates: [],
  validFrom: null,
  validUntil: null,
  durationMs: 900_000,
  ...over,
});
const iso = (airtimes: { startsAt: Date }[]) => airtimes.map((a) => a.startsAt.toISOString());

describe('recurrence expansion', () => {
  it('keeps 06:30 local (23:30 UTC the day before) across a year boundary', () => {
    const result = expandAirtimes(spec({}), new Date('2026-12-29T00:00:00Z'), new Date('2027-01-02T00:00:00Z'));
    expect(iso(result)).toEqual([
      '2026-12-29T23:30:00.000Z',
      '2026-12-30T23:30:00.000Z',
      '2026-12-31T23:30:00.000Z',
      '2027-01-01T23:30:00.000Z',
    ]);
    expect(result[0]?.endsAt.toISOString()).toBe('2026-12-29T23:45:00.000Z');
  });

  it('skips months without the day, across month boundaries (BYMONTHDAY=31)', () => {
    const result = expandAirtimes(
      spec({ startLocal: '2026-12-31T08:00:00', rrule: 'FREQ=MONTHLY;BYMONTHDAY=31' }),
      new Date('2026-12-01T00:00:00Z'),
      new Date('2027-06-01T00:00:00Z'),
    );
    expect(iso(result)).toEqual([
      '2026-12-31T01:00:00.000Z',
      '2027-01-31T01:00:00.000Z',
      '2027-03-31T01:00:00.000Z',
      '2027-05-31T01:00:00.000Z',
    ]);
  });

  it('finds 29 February only in leap years', () => {
    const result = expandAirtimes(
      spec({ startLocal: '2028-02-29T07:00:00', rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' }),
      new Date('2028-01-01T00:00:00Z'),
      new Date('2037-01-01T00:00:00Z'),
    );
    expect(iso(result)).toEqual(['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z', '2036-02-29T00:00:00.000Z']);
  });

  it('honours exceptions and the validity window', () => {
    const result = expandAirtimes(
      spec({
        startLocal: '2026-11-02T07:30:00',
        rrule: 'FREQ=WEEKLY;BYDAY=MO',
        exdates: ['2026-11-16T07:30:00'],
        validUntil: new Date('2026-11-30T00:00:00Z'),
      }),
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-12-31T00:00:00Z'),
    );
    expect(iso(result)).toEqual(['2026-11-02T00:30:00.000Z', '2026-11-09T00:30:00.000Z', '2026-11-23T00:30:00.000Z']);
  });

  it('gives a one-off its single airtime when inside the window', () => {
    const once = spec({ rrule: null, startLocal: '2026-11-25T19:00:00' });
    expect(iso(expandAirtimes(once, new Date('2026-11-25T00:00:00Z'), new Date('2026-11-26T00:00:00Z')))).toEqual([
      '2026-11-25T12:00:00.000Z',
    ]);
    expect(expandAirtimes(once, new Date('2026-11-26T00:00:00Z'), new Date('2026-11-27T00:00:00Z'))).toEqual([]);
  });

  it('follows daylight-saving changes in zones that have them', () => {
    const berlin = spec({ timezone: 'Europe/Berlin', startLocal: '2027-03-27T06:30:00' });
    expect(iso(expandAirtimes(berlin, new Date('2027-03-27T00:00:00Z'), new Date('2027-03-29T00:00:00Z')))).toEqual([
      '2027-03-27T05:30:00.000Z',
      '2027-03-28T04:30:00.000Z',
    ]);
  });

  it('refuses bad rules, start times and exceptions with a reason', () => {
    const window = [new Date('2026-11-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z')] as const;
    expect(() => expandAirtimes(spec({ rrule: 'FREQ=SOMETIMES' }), ...window)).toThrow(RecurrenceError);
    expect(() => expandAirtimes(spec({ rrule: 'FREQ=MINUTELY' }), ...window)).toThrow(/more frequent than daily/);
    expect(() => expandAirtimes(spec({ rrule: 'DTSTART:20261101T000000Z\nRRULE:FREQ=DAILY' }), ...window)).toThrow(
      /startLocal/,
    );
    expect(() => expandAirtimes(spec({ startLocal: '2026-02-30T06:00' }), ...window)).toThrow(/startLocal/);
    expect(() => expandAirtimes(spec({ exdates: ['yesterday'] }), ...window)).toThrow(/exdate/);
  });
});
