import type { AckEvent, PlayEvent } from '@loa/protocols';
import type { Database } from '../database/client.js';
import type { DeliveryState, Prisma } from '../generated/prisma/client.js';
import { stateForPlay, statesBelow } from '../ingest/delivery-states.js';
import type { FleetEvent } from '../live-events/fleet-event.js';

type Tx = Prisma.TransactionClient;

/** The reason a delivery is marked missed when its session ends without the receiver saying it played. */
export const LIVE_NO_REPORT = 'no report of playing by the end of the session';
const NOT_STARTED: DeliveryState[] = ['planned', 'provisioned', 'acknowledged'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A second copy of a command already taken says nothing about the session. */
const HARMLESS_REFUSALS = new Set(['replayed']);

async function move(
  tx: Tx,
  sessionId: string,
  receiverId: string,
  to: DeliveryState,
  data: Prisma.LiveDeliveryUpdateManyMutationInput,
  notices: FleetEvent[],
  at: Date,
): Promise<void> {
  const moved = await tx.liveDelivery.updateMany({
    where: {
      sessionId,
      receiverId,
      // Forward only; a late report replaces the verdict the end of the session guessed.
      OR: [{ state: { in: statesBelow(to) } }, { state: 'missed', reason: LIVE_NO_REPORT }],
    },
    data: { state: to, ...data },
  });
  if (moved.count > 0) notices.push({ type: 'live.delivery', sessionId, receiverId, state: to, at: at.toISOString() });
}

/**
 * Proof of play of a live item (itemId = session id): started at the first sound,
 * finished at the last packet or live.stop, interrupted (an emergency took over, or the
 * heartbeat was lost), failed, missed.
 */
export async function applyLivePlay(tx: Tx, event: PlayEvent, at: Date, notices: FleetEvent[]): Promise<void> {
  if (!UUID.test(event.itemId)) return;
  const to = stateForPlay(event.state);
  const reason = event.reason ?? (event.interruptedBy ? `interrupted by ${event.interruptedBy}` : null);
  // A receiver that reports playing had the command, even if its acknowledgement is still on its way.
  await tx.liveDelivery.updateMany({
    where: { sessionId: event.itemId, receiverId: event.receiverId, acknowledgedAt: null },
    data: { acknowledgedAt: at },
  });
  await move(
    tx,
    event.itemId,
    event.receiverId,
    to,
    { ...(to === 'started' ? { startedAt: at } : { finishedAt: at }), reason },
    notices,
    at,
  );
}

/** A receiver's answer to live.start: accepted is acknowledged; refused or failed means it will not sound. */
export async function applyLiveAck(tx: Tx, event: AckEvent, at: Date, notices: FleetEvent[]): Promise<void> {
  const session = await tx.liveSession.findFirst({
    where: { issuedTargets: { array_contains: [{ commandId: event.commandId }] } },
    select: { id: true },
  });
  if (!session) return;
  if (event.result === 'accepted')
    return move(tx, session.id, event.receiverId, 'acknowledged', { acknowledgedAt: at }, notices, at);
  if (event.result === 'failed' || (event.result === 'refused' && !HARMLESS_REFUSALS.has(event.reason ?? '')))
    return move(
      tx,
      session.id,
      event.receiverId,
      'failed',
      {
        finishedAt: at,
        reason: `${event.result}: ${[event.reason, event.detail].filter(Boolean).join(': ') || 'unknown'}`,
      },
      notices,
      at,
    );
}

/** At the end of a session: receivers that never said they played it are missed (a late report still replaces this). */
export async function markUnheardMissed(db: Database, sessionId: string, at: Date): Promise<FleetEvent[]> {
  const missed = await db.liveDelivery.updateManyAndReturn({
    where: { sessionId, state: { in: NOT_STARTED } },
    data: { state: 'missed', reason: LIVE_NO_REPORT },
    select: { receiverId: true },
  });
  return missed.map((d) => ({
    type: 'live.delivery' as const,
    sessionId,
    receiverId: d.receiverId,
    state: 'missed',
    at: at.toISOString(),
  }));
}
