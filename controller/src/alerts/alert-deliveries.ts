import type { AckEvent, PlayEvent } from '@loa/protocols';
import type { AlertDeliveryState, Prisma } from '../generated/prisma/client.js';
import type { FleetEvent } from '../live-events/fleet-event.js';

type Tx = Prisma.TransactionClient;

/**
 * One receiver's progress with one alert. A state only moves forward, so a late or
 * repeated report cannot undo a later one; `unreachable` (offline when issued) is left
 * as soon as the receiver answers. An interrupted airing may still finish (the agent
 * replays warnings whole, and repeats), so finished ranks above interrupted.
 */
const RANK: Record<AlertDeliveryState, number> = {
  pending: 0,
  unreachable: 0.5,
  delivered: 1,
  started: 2,
  interrupted: 2.5,
  finished: 3,
  stopped: 3,
  failed: 3,
};

/** Every state, in the order a delivery moves through them. */
export const ALERT_DELIVERY_STATES = Object.keys(RANK) as AlertDeliveryState[];

export const NOT_STARTED: AlertDeliveryState[] = ['pending', 'unreachable', 'delivered'];

export function below(to: AlertDeliveryState): AlertDeliveryState[] {
  return (Object.keys(RANK) as AlertDeliveryState[]).filter((s) => RANK[s] < RANK[to]);
}

/** Refusals that say nothing about this alert sounding: a second copy of a command already taken. */
const HARMLESS_REFUSALS = new Set(['replayed']);

/** The airing's alert and revision, from the edge agent's item id `<wireId ≤100>.r<revision>.<airing>`. */
export function parseAiringId(itemId: string): { wireIdPrefix: string; revision: number } | undefined {
  const match = /^(.{1,100})\.r(\d{1,9})\.\d{1,9}$/.exec(itemId);
  if (!match?.[1] || !match[2]) return undefined;
  return { wireIdPrefix: match[1], revision: Number(match[2]) };
}

function stateForPlay(event: PlayEvent, cancelled: boolean): AlertDeliveryState | undefined {
  switch (event.state) {
    case 'started':
      return 'started';
    case 'finished':
      return 'finished';
    case 'interrupted':
      return cancelled ? 'stopped' : 'interrupted';
    case 'failed':
    case 'skipped':
    case 'missed':
      return 'failed';
  }
}

async function move(
  tx: Tx,
  alertId: string,
  receiverId: string,
  to: AlertDeliveryState,
  data: Prisma.AlertDeliveryUpdateManyMutationInput,
  notices: FleetEvent[],
  at: Date,
): Promise<void> {
  const moved = await tx.alertDelivery.updateMany({
    where: { alertId, receiverId, state: { in: below(to) } },
    data: { state: to, ...data },
  });
  if (moved.count > 0) notices.push({ type: 'alert.delivery', alertId, receiverId, state: to, at: at.toISOString() });
}

/** Proof of play of an alert airing moves that receiver's delivery (started, finished, stopped, failed). */
export async function applyAlertPlay(tx: Tx, event: PlayEvent, at: Date, notices: FleetEvent[]): Promise<void> {
  const airing = parseAiringId(event.itemId);
  if (!airing) return;
  const alert = await tx.alert.findFirst({
    where: {
      revision: airing.revision,
      ...(airing.wireIdPrefix.length === 100
        ? { wireId: { startsWith: airing.wireIdPrefix } }
        : { wireId: airing.wireIdPrefix }),
    },
    select: { id: true, state: true },
  });
  if (!alert) return;
  // Once cancelled or replaced by an Update, an interrupted airing was stopped on purpose.
  const to = stateForPlay(event, alert.state === 'cancelled' || alert.state === 'updated');
  if (!to) return;
  const data: Prisma.AlertDeliveryUpdateManyMutationInput =
    to === 'started'
      ? { startedAt: at }
      : { endedAt: at, ...(event.reason ? { reason: event.reason.slice(0, 200) } : {}) };
  // A receiver that reports playing was delivered, even if its acknowledgement is still on its way.
  await tx.alertDelivery.updateMany({
    where: { alertId: alert.id, receiverId: event.receiverId, deliveredAt: null },
    data: { deliveredAt: at },
  });
  await move(tx, alert.id, event.receiverId, to, data, notices, at);
}

/** A receiver's answer to an alert.issue: accepted is delivered; a refusal means it will not sound. */
export async function applyAlertAck(
  tx: Tx,
  event: AckEvent,
  alertId: string,
  at: Date,
  notices: FleetEvent[],
): Promise<void> {
  if (event.result === 'accepted')
    return move(tx, alertId, event.receiverId, 'delivered', { deliveredAt: at }, notices, at);
  if (event.result === 'refused' && !HARMLESS_REFUSALS.has(event.reason ?? ''))
    return move(
      tx,
      alertId,
      event.receiverId,
      'failed',
      { endedAt: at, reason: `refused: ${event.reason ?? 'unknown'}` },
      notices,
      at,
    );
}
