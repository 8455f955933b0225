/** Vietnam keeps UTC+7 all year (no daylight saving), so local time is plain arithmetic. */
const VIETNAM_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h as number) * 60 + (m as number);
};

/**
 * The first time at or after `from` (Unix ms) that lies in the daily window
 * [windowStart, windowEnd) of Vietnam local time ("07:00"–"20:00", as communes repeat a
 * storm warning by day). A window that crosses midnight ("20:00"–"06:00") works too; no
 * window means any time.
 */
export function nextInWindow(from: number, windowStart?: string, windowEnd?: string): number {
  if (!windowStart || !windowEnd) return from;
  const start = minutesOf(windowStart) * 60_000;
  const end = minutesOf(windowEnd) * 60_000;
  if (start === end) return from;
  const local = from + VIETNAM_OFFSET_MS;
  const dayStart = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  const intoDay = local - dayStart;
  const inside = start < end ? intoDay >= start && intoDay < end : intoDay >= start || intoDay < end;
  if (inside) return from;
  // Before today's opening, or after its close: the next opening.
  const opening = intoDay < start ? dayStart + start : dayStart + DAY_MS + start;
  return opening - VIETNAM_OFFSET_MS;
}
