import { randomUUID } from 'node:crypto';
import { type EventReceipts, type ReceiverEvent, topics } from '@loa/protocols';
import type { Clock, TimerHandle } from './hardware/seams.js';
import type { MqttLink } from './link/mqtt-link.js';
import type { Outbox } from './store/outbox.js';

/** An event without the fields the reporter adds. */
export type Report = ReceiverEvent extends infer E
  ? E extends ReceiverEvent
    ? Omit<E, 'v' | 'eventId' | 'receiverId' | 'at'>
    : never
  : never;

/** How long an unreceipted event waits before it is sent again. */
export const DEFAULT_RESEND_AFTER_MS = 60_000;

/**
 * Every report (acks, proof of play, faults, cache) goes into the durable outbox first,
 * then to the broker while connected; it leaves the outbox only when the controller's
 * receipt names it. So a report made while the link is down, or lost on the way, is sent
 * again until it is known to be stored, and the controller drops repeats by eventId.
 */
export class Reporter {
  readonly #sentAt = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  #timer: TimerHandle | undefined;

  constructor(
    private readonly o: {
      receiverId: string;
      clock: Clock;
      /** Controller time, for the event's `at`. */
      time: () => number;
      outbox: Outbox;
      link: MqttLink;
      resendAfterMs?: number;
      log?: (message: string, detail?: Record<string, unknown>) => void;
    },
  ) {}

  /** Records a report durably, then tries to send it. */
  async report(report: Report): Promise<ReceiverEvent> {
    const event = {
      v: 1,
      eventId: randomUUID(),
      receiverId: this.o.receiverId,
      at: Math.round(this.o.time()),
      ...report,
    } as ReceiverEvent;
    await this.o.outbox.add(event);
    void this.flush();
    return event;
  }

  /** Sends what is waiting (oldest first); resolves when done or the link drops. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** A receipt from the controller: those events are stored and can be forgotten. */
  async onReceipts(receipts: EventReceipts): Promise<void> {
    if (receipts.receiverId !== this.o.receiverId) return;
    await this.o.outbox.confirm(receipts.eventIds);
    for (const id of receipts.eventIds) this.#sentAt.delete(id);
    void this.flush();
  }

  /** Re-sends unreceipted events periodically. */
  start(): void {
    const tick = () => {
      void this.flush();
      this.#timer = this.o.clock.setTimeout(tick, this.#resendAfter() / 2);
    };
    tick();
  }

  stop(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
  }

  /** After reconnecting everything pending goes again. */
  resendAll(): void {
    this.#sentAt.clear();
    void this.flush();
  }

  #resendAfter(): number {
    return this.o.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS;
  }

  async #flush(): Promise<void> {
    while (this.o.link.connected) {
      const now = this.o.clock.monotonic();
      const due = (await this.o.outbox.pending(200)).filter(
        (e) => (this.#sentAt.get(e.eventId) ?? Number.NEGATIVE_INFINITY) < now - this.#resendAfter(),
      );
      if (due.length === 0) return;
      for (const event of due) {
        try {
          await this.o.link.publish(topics.receiverEvents(this.o.receiverId), JSON.stringify(event), { qos: 1 });
          this.#sentAt.set(event.eventId, now);
        } catch {
          return;
        }
      }
      if (due.length < 200) return;
    }
  }
}
