import type { Database } from '../database/client.js';

/**
 * A receiver silent for longer than this is flagged offline (telemetry is its heartbeat,
 * every 10 s by default): two and a half missed beats, so with the 2 s sweep a receiver
 * that dies is flagged within 27 s at worst (the target is 30 s), while one lost beat on
 * a weak link is not a false alarm.
 */
export const DEFAULT_SILENCE_MS = 25_000;

/** Beats a receiver may miss before it is offline (see DEFAULT_SILENCE_MS). */
const MISSED_BEATS = 2.5;

/** How long this receiver's silence may last: the limit, or 2.5 of its own report periods if longer. */
function silenceAllowedMs(telemetry: unknown, silenceMs: number): number {
  const intervalS = (telemetry as { intervalS?: unknown } | null)?.intervalS;
  return typeof intervalS === 'number' ? Math.max(silenceMs, intervalS * 1000 * MISSED_BEATS) : silenceMs;
}

/**
 * Flags as offline every receiver marked online whose last report is older than the
 * silence limit — or than 2.5 of its own report periods, for a receiver a technician set
 * to report less often (its telemetry says `intervalS`) — and returns their ids. Safe to
 * run from any instance at any time.
 */
export async function flagSilentReceivers(
  db: Database,
  now = new Date(),
  silenceMs = DEFAULT_SILENCE_MS,
): Promise<string[]> {
  const cutoff = new Date(now.getTime() - silenceMs);
  const candidates = await db.receiver.findMany({
    where: { online: true, OR: [{ lastSeenAt: { lt: cutoff } }, { lastSeenAt: null }] },
    select: { id: true, lastSeenAt: true, telemetry: true },
  });
  const silent = candidates.filter(
    (r) => !r.lastSeenAt || now.getTime() - r.lastSeenAt.getTime() > silenceAllowedMs(r.telemetry, silenceMs),
  );
  if (silent.length === 0) return [];
  const ids = silent.map((r) => r.id);
  // Re-check the condition in the update, so a report that arrived meanwhile wins.
  await db.receiver.updateMany({
    where: { id: { in: ids }, online: true, OR: [{ lastSeenAt: { lt: cutoff } }, { lastSeenAt: null }] },
    data: { online: false },
  });
  return ids;
}
