import type { FleetEvent } from '@loa/protocols';
import type { Receiver } from './receiver-view.ts';

/**
 * A receiver as a live event changes it. Idempotent (setting online twice, raising a
 * fault already latched), so an event that arrives while the list is loading can be
 * applied to a row read before or after it without harm.
 */
export function applyEvent(receiver: Receiver, event: FleetEvent): Receiver {
  if (!('receiverId' in event) || event.receiverId !== receiver.id) return receiver;
  if (event.type === 'receiver.online') {
    if (receiver.online === event.online) return receiver;
    // Going offline keeps the time of the last report: that is when it was last heard.
    return { ...receiver, online: event.online, lastSeenAt: event.online ? event.at : receiver.lastSeenAt };
  }
  if (event.type === 'receiver.fault') {
    const latched = receiver.faults.includes(event.code);
    if (event.state === 'raised' && !latched) return { ...receiver, faults: [...receiver.faults, event.code] };
    if (event.state === 'cleared' && latched)
      return { ...receiver, faults: receiver.faults.filter((code) => code !== event.code) };
  }
  return receiver;
}

/** Whether an event is one that changes a receiver row. */
export const isReceiverEvent = (event: FleetEvent): boolean =>
  event.type === 'receiver.online' || event.type === 'receiver.fault';
