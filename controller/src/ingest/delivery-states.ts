import type { PlayEvent } from '@loa/protocols';
import type { DeliveryState } from '../generated/prisma/client.js';

/**
 * Delivery state machine: planned → provisioned → acknowledged → started → finished,
 * or a terminal interrupted / failed / missed / cancelled. A state only moves forward,
 * so a late or duplicated report (QoS 1 redelivers, links reorder) cannot undo a later one.
 */
const RANK: Record<DeliveryState, number> = {
  planned: 0,
  provisioned: 1,
  acknowledged: 2,
  started: 3,
  // An interrupted item may be resumed and finish (the agent replays warnings whole):
  // finished ranks above interrupted, so the delivery ends as heard.
  interrupted: 3.5,
  finished: 4,
  failed: 4,
  missed: 4,
  cancelled: 4,
};

export function canMove(from: DeliveryState, to: DeliveryState): boolean {
  return RANK[to] > RANK[from];
}

/** The delivery state a proof-of-play report leads to. */
export function stateForPlay(state: PlayEvent['state']): DeliveryState {
  switch (state) {
    case 'started':
      return 'started';
    case 'finished':
      return 'finished';
    case 'interrupted':
      return 'interrupted';
    case 'failed':
      return 'failed';
    case 'skipped':
    case 'missed':
      return 'missed';
  }
}

/** States a state can be reached from (for a guarded UPDATE ... WHERE state IN ...). */
export function statesBelow(to: DeliveryState): DeliveryState[] {
  return (Object.keys(RANK) as DeliveryState[]).filter((s) => canMove(s, to));
}
