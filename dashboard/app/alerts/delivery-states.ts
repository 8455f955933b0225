import type { ParseKeys } from 'i18next';
import type { DeliveryRow } from './alert-api.ts';

export type DeliveryState = DeliveryRow['state'];

/**
 * The states of an alert on one receiver, in the order they move (the controller's
 * RANK: a state only moves forward, so a late event cannot undo a later one), each with
 * a map colour and its words; colour is never the only sign (the legend and the table
 * say the state in text).
 */
export const DELIVERY_STATES: ReadonlyArray<{
  state: DeliveryState;
  rank: number;
  colour: string;
  label: ParseKeys<'alerts'>;
}> = [
  { state: 'pending', rank: 0, colour: '#9aa5ae', label: 'deliveryPending' },
  { state: 'unreachable', rank: 0.5, colour: '#3b3b3b', label: 'deliveryUnreachable' },
  { state: 'delivered', rank: 1, colour: '#1d5fa8', label: 'deliveryDelivered' },
  { state: 'started', rank: 2, colour: '#ef6c00', label: 'deliveryStarted' },
  { state: 'interrupted', rank: 2.5, colour: '#f9d71c', label: 'deliveryInterrupted' },
  { state: 'finished', rank: 3, colour: '#1b7a3d', label: 'deliveryFinished' },
  { state: 'stopped', rank: 3, colour: '#7b1fa2', label: 'deliveryStopped' },
  { state: 'failed', rank: 3, colour: '#b00020', label: 'deliveryFailed' },
];

const BY_STATE = new Map(DELIVERY_STATES.map((s) => [s.state, s]));

export const deliveryInfo = (state: string) =>
  BY_STATE.get(state as DeliveryState) ?? {
    state: state as DeliveryState,
    rank: -1,
    colour: '#ffffff',
    label: 'deliveryPending' as const,
  };

/** Whether a reported state moves a receiver forward from where it stands. */
export function movesForward(from: string, to: string): boolean {
  return deliveryInfo(to).rank > deliveryInfo(from).rank;
}

/** Receivers the alert did not go to. */
export const OUTSIDE = { state: 'outside', colour: '#ffffff', label: 'deliveryOutside' } as const;
