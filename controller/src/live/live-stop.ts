import type { CommandTarget } from '@loa/protocols';
import type { Principal } from '../access/principal.js';
import { sendImmediateToEach } from '../dispatch/immediate-commands.js';
import type { LiveSession } from '../generated/prisma/client.js';
import { Problem } from '../http/problem.js';
import { type LiveDeps, localBroadcast } from './live-broadcast.js';
import { markUnheardMissed } from './live-deliveries.js';
import type { IssuedLiveTarget } from './live-start.js';

/**
 * Stops a session wherever it is held. Held here: the broadcast ends (last packet,
 * live.stop). Held by another instance: the row is closed and live.stop sent from here,
 * so receivers stop at once; the holder sees the closed row within seconds and stops
 * sending. 409 when it has already ended.
 */
export async function stopLiveSession(
  deps: LiveDeps,
  by: Principal | 'system',
  row: LiveSession,
  reason: string,
): Promise<void> {
  if (row.state === 'ended' || row.state === 'failed')
    throw new Problem(
      409,
      'Conflict',
      `the live session already ${row.state === 'ended' ? 'ended' : 'failed'} (${row.endReason ?? 'no reason given'})`,
    );
  const held = localBroadcast(row.id);
  if (held) return held.end(reason, by);
  const now = new Date((deps.now ?? Date.now)());
  const closed = await deps.db.liveSession.updateMany({
    where: { id: row.id, state: { in: ['opening', 'on_air'] } },
    data: { state: 'ended', endedAt: now, endReason: reason },
  });
  if (closed.count === 0) throw new Problem(409, 'Conflict', 'the live session ended meanwhile');
  const targets = (row.issuedTargets as unknown as IssuedLiveTarget[]).map((t) => t.target) as CommandTarget[];
  if (targets.length > 0)
    await sendImmediateToEach(deps, by, { kind: 'live.stop', targets, body: { sessionId: row.id, reason } });
  for (const notice of await markUnheardMissed(deps.db, row.id, now)) void deps.bus?.publish(notice).catch(() => {});
}
