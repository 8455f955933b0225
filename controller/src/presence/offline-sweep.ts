import type { Database } from '../database/client.js';

/**
 * A receiver silent for longer than this is flagged offline (telemetry is its heartbeat,
 * every 10 s by default): two and a half missed beats, so with the 2 s sweep a receiver
 * that dies is flagged within 27 s at worst (the target is 30 s), while one lost beat on
 * a weak link is not a false alarm.
 */
export const DEFAULT_SILENCE_MS = 25_000;

/**
 * Flags as offline every receiver marked online whose last report is older than the
 * silence limit; returns their ids. Safe to run from any instance at any time.
 */
export async function flagSilentReceivers(
  db: Database,
  now = new Date(),
  silenceMs = DEFAULT_SILENCE_MS,
): Promise<string[]> {
  const cutoff = new Date(now.getTime() - silenceMs);
  const silent = await db.receiver.findMany({
    where: { online: true, OR: [{ lastSeenAt: { lt: cutoff } }, { lastSeenAt: null }] },
    select: { id: true },
  });
  if (silent.length === 0) return [];
  const ids = silent.map((r) => r.id);
  // Re-check the condition in the update, so a report that arrived meanwhile wins.
  await db.receiver.updateMany({
    where: { id: { in: ids }, online: true, OR: [{ lastSeenAt: { lt: cutoff } }, { lastSeenAt: null }] },
    data: { online: false },
  });
  return ids;
}
