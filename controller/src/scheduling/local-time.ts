/**
 * Local wall-clock time ("2026-11-23T06:30:00") to UTC in a named zone. Vietnam has no
 * daylight saving, but this does not assume it: the offset is looked up per instant.
 */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export function parseLocal(local: string): { wall: Date } | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject 2026-02-30 and the like, which Date would roll over.
  if (
    wall.getUTCFullYear() !== y ||
    wall.getUTCMonth() !== mo - 1 ||
    wall.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  )
    return null;
  return { wall };
}

/** Offset of `zone` from UTC at the instant `utc`, in milliseconds. */
export function zoneOffsetMs(zone: string, utc: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(utc);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utc.getTime() / 1000) * 1000;
}

/** The UTC instant of a wall-clock time (given as a Date whose UTC fields hold the wall time). */
export function wallToUtc(wall: Date, zone: string): Date {
  const guess = new Date(wall.getTime() - zoneOffsetMs(zone, wall));
  return new Date(wall.getTime() - zoneOffsetMs(zone, guess));
}

/** Wall-clock fields of a UTC instant in `zone`, as a Date whose UTC fields hold them. */
export function utcToWall(utc: Date, zone: string): Date {
  return new Date(utc.getTime() + zoneOffsetMs(zone, utc));
}

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
