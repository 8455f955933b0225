import type { PlayRecord } from '../fleet/recording-renderer.js';

/** Every receiver's first sound of an item, in true time. */
export function firstStarts(plays: readonly PlayRecord[], itemId: string): Map<string, number> {
  const starts = new Map<string, number>();
  for (const p of plays) {
    if (p.itemId !== itemId || p.startedAt === undefined) continue;
    const seen = starts.get(p.receiverId);
    if (seen === undefined || p.startedAt < seen) starts.set(p.receiverId, p.startedAt);
  }
  return starts;
}

/** Trigger-to-sound latency of each receiver that started the item (ms). */
export function startLatencies(plays: readonly PlayRecord[], itemId: string, triggeredAt: number): number[] {
  return [...firstStarts(plays, itemId).values()].map((at) => at - triggeredAt);
}

/**
 * Start skew: per group (a village, say), the spread between the first and the last
 * receiver to start the item. Groups where fewer than two receivers started are left out.
 */
export function startSkews(
  plays: readonly PlayRecord[],
  itemId: string,
  groupOf: (receiverId: string) => string,
): Map<string, number> {
  const bounds = new Map<string, { min: number; max: number; n: number }>();
  for (const [receiverId, at] of firstStarts(plays, itemId)) {
    const group = groupOf(receiverId);
    const b = bounds.get(group) ?? { min: at, max: at, n: 0 };
    b.min = Math.min(b.min, at);
    b.max = Math.max(b.max, at);
    b.n++;
    bounds.set(group, b);
  }
  const skews = new Map<string, number>();
  for (const [group, b] of bounds) if (b.n > 1) skews.set(group, b.max - b.min);
  return skews;
}

/**
 * Items heard to the end more than once on one receiver. A resumed item renders again
 * after an interruption, but only one of its renders finishes, so this counts true
 * duplicates (a command acted on twice), not resumptions.
 */
export function duplicatePlays(
  plays: readonly PlayRecord[],
): Array<{ receiverId: string; itemId: string; times: number }> {
  const finished = new Map<string, number>();
  for (const p of plays)
    if (p.result === 'finished')
      finished.set(`${p.receiverId}\u0000${p.itemId}`, (finished.get(`${p.receiverId}\u0000${p.itemId}`) ?? 0) + 1);
  return [...finished]
    .filter(([, times]) => times > 1)
    .map(([key, times]) => {
      const [receiverId, itemId] = key.split('\u0000') as [string, string];
      return { receiverId, itemId, times };
    });
}

/** Receivers expected to play an item that never started it. */
export function missingStarts(plays: readonly PlayRecord[], itemId: string, expected: Iterable<string>): string[] {
  const started = firstStarts(plays, itemId);
  return [...expected].filter((id) => !started.has(id));
}
