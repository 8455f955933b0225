/**
 * CAP 1.2 date-times: "2002-05-24T16:49:00-07:00". The XSD pattern
 * `\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d` forbids fractional seconds and the
 * spec forbids "Z" (UTC is written "-00:00"). We refuse both, and accept "+00:00", which
 * the XSD allows though the prose prefers "-00:00".
 */
const CAP_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

/** Why a value is not a CAP date-time, or undefined when it is one. */
export function capDateTimeProblem(value: string): string | undefined {
  const m = CAP_DATE_TIME.exec(value);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/i.test(value))
      return `'${value}' uses 'Z'; CAP 1.2 requires a numeric offset (UTC is -00:00)`;
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+/.test(value))
      return `'${value}' has fractional seconds, which CAP 1.2 does not allow`;
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(value))
      return `'${value}' has no time zone offset; CAP 1.2 requires one, e.g. +07:00`;
    return `'${value}' is not a CAP date-time like 2002-05-24T16:49:00-07:00`;
  }
  const num = (i: number) => Number(m[i]);
  const [year, month, day, hour, minute, second, offH, offM] = [
    num(1),
    num(2),
    num(3),
    num(4),
    num(5),
    num(6),
    num(8),
    num(9),
  ];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return `'${value}' is not a real calendar date and time`;
  if (offH > 14 || offM > 59 || (offH === 14 && offM !== 0))
    return `'${value}' has a time zone offset outside -14:00..+14:00`;
  return undefined;
}

/** Epoch milliseconds of a CAP date-time, or undefined if it is not one. */
export function parseCapDateTime(value: string): number | undefined {
  if (capDateTimeProblem(value) !== undefined) return undefined;
  return Date.parse(value);
}

/**
 * Formats epoch milliseconds as a CAP date-time at a fixed offset (minutes east of
 * UTC; Vietnam is 420). Offset 0 is written "-00:00" as CAP asks. Milliseconds are dropped.
 */
export function formatCapDateTime(epochMs: number, offsetMinutes = 0): string {
  if (!Number.isFinite(epochMs)) throw new RangeError('epochMs must be finite');
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 14 * 60)
    throw new RangeError('offsetMinutes must be a whole number of minutes within ±14 hours');
  const local = new Date(Math.floor(epochMs / 1000) * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  const out = `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  if (!CAP_DATE_TIME.test(out)) throw new RangeError('epochMs is outside the years 0000-9999');
  return out;
}
