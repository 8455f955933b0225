import { AlertIssueBody, type AssetRef, type CommandBody, type PlayableItem } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import type { StopRequest } from '../playback/playback-engine.js';
import type { DurableDocument } from '../store/durable-document.js';
import { nextInWindow } from './repeat-window.js';

type Issue = CommandBody<'alert.issue'>;
type Cancel = CommandBody<'alert.cancel'>;

/** What is kept of each alert in force, so a receiver that reboots goes on repeating it. */
export const ActiveAlerts = Type.Array(
  Type.Object({
    // The body's fields, not the schema itself: a schema with an $id compiled inside
    // another clashes with the command verifier's own compilation of it (Ajv refuses a
    // second schema of the same id, and the alert would never sound).
    body: Type.Object(AlertIssueBody.properties, { additionalProperties: false }),
    /** Airings so far (each a distinct item id, so proof-of-play tells them apart). */
    airings: Type.Integer({ minimum: 0 }),
    /** Controller time of the next airing; null when it will not air again. */
    nextAt: Type.Union([Type.Number(), Type.Null()]),
  }),
);
export type ActiveAlert = Static<typeof ActiveAlerts>[number];

export interface AlertKeeperOptions {
  clock: Clock;
  /** The controller's time (clock-synced): alert times are the controller's. */
  controllerTime: () => number;
  /** Airs an item now through priority arbitration (source 'alert': it interrupts lower ones). */
  submit: (item: PlayableItem, endBy: number) => boolean;
  stop: (request: StopRequest) => number;
  /** Fetches an alert's audio (and waits a bounded time for it) before it airs. */
  fetch: (assets: AssetRef[]) => Promise<void>;
  store: DurableDocument<typeof ActiveAlerts>;
  log: (message: string, detail?: Record<string, unknown>) => void;
}

/** Longest gap a timer is set for; longer waits are re-armed (timers drift, clocks resync). */
const MAX_TIMER_MS = 10 * 60_000;

/**
 * Alerts on the receiver: an `alert.issue` airs at once at its priority (emergency
 * interrupts everything), then again as its repeat policy says (every N s, within a daily
 * window of Vietnam time) until it expires or is cancelled, surviving reboots. A newer
 * revision (an Update) replaces the older one in flight; `alert.cancel` stops it at once
 * and may air a prepared cancellation message. Hand-written: it is this system's policy.
 */
export class AlertKeeper {
  readonly #alerts = new Map<string, ActiveAlert>();
  readonly #timers = new Map<string, TimerHandle>();
  #closed = false;

  constructor(private readonly o: AlertKeeperOptions) {}

  /** Restores alerts in force from the store and arms their next airings. */
  async load(): Promise<void> {
    const now = this.o.controllerTime();
    for (const alert of await this.o.store.load()) {
      if (alert.body.alertExpiresAt <= now) continue;
      this.#alerts.set(alert.body.alertId, alert);
      this.#arm(alert);
    }
    await this.#save();
  }

  active(): ActiveAlert[] {
    return [...this.#alerts.values()];
  }

  async issue(body: Issue): Promise<void> {
    const now = this.o.controllerTime();
    if (body.alertExpiresAt <= now) {
      this.o.log('alert already expired; not aired', { alertId: body.alertId });
      return;
    }
    const current = this.#alerts.get(body.alertId);
    if (current && current.body.revision >= body.revision) {
      this.o.log('alert revision already held; ignored', { alertId: body.alertId, revision: body.revision });
      return;
    }
    // An Update: the older revision stops where it is and the new one airs in its place.
    if (current) this.#silence(current);
    const replaced = body.references ? this.#alerts.get(body.references) : undefined;
    if (replaced && replaced !== current) {
      this.#silence(replaced);
      this.#alerts.delete(replaced.body.alertId);
    }
    const alert: ActiveAlert = { body, airings: 0, nextAt: now };
    this.#alerts.set(body.alertId, alert);
    // Sound first: a slow or failing store must never hold a warning back (#air saves after).
    await this.#air(alert);
  }

  async cancel(body: Cancel): Promise<void> {
    const alert = this.#alerts.get(body.alertId);
    if (alert) {
      this.#silence(alert);
      this.#alerts.delete(body.alertId);
      this.#persist();
    } else {
      this.o.log('cancel of an alert not held here', { alertId: body.alertId });
    }
    if (body.message) {
      await this.o.fetch(body.assets ?? []);
      this.o.submit(body.message, this.o.controllerTime() + 10 * 60_000);
    }
  }

  /** Resolves when every save so far has finished. */
  flushed(): Promise<void> {
    return this.o.store.idle();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) this.o.clock.clearTimeout(timer);
    this.#timers.clear();
  }

  async #air(alert: ActiveAlert): Promise<void> {
    const { body } = alert;
    if (this.#closed || this.#alerts.get(body.alertId) !== alert) return;
    const now = this.o.controllerTime();
    if (now >= body.alertExpiresAt) return this.#expire(alert);
    await this.o.fetch(body.assets);
    if (this.#alerts.get(body.alertId) !== alert) return; // cancelled or replaced while fetching
    const item = { ...body.item, itemId: airingId(body.alertId, body.revision, alert.airings) };
    if (body.maxVolume !== undefined) item.volume = Math.max(item.volume, body.maxVolume);
    this.o.submit(item, body.alertExpiresAt);
    alert.airings++;
    alert.nextAt = this.#nextAiring(body, now);
    this.#arm(alert);
    this.#persist();
  }

  #nextAiring(body: Issue, now: number): number | null {
    if (!body.repeat) return null;
    const next = nextInWindow(now + body.repeat.everyS * 1000, body.repeat.windowStart, body.repeat.windowEnd);
    return next < body.alertExpiresAt ? next : null;
  }

  #arm(alert: ActiveAlert): void {
    const id = alert.body.alertId;
    const old = this.#timers.get(id);
    if (old) this.o.clock.clearTimeout(old);
    this.#timers.delete(id);
    if (alert.nextAt === null) {
      // Nothing more to air: forget it once it expires.
      const until = alert.body.alertExpiresAt - this.o.controllerTime();
      this.#timers.set(
        id,
        this.o.clock.setTimeout(() => void this.#expire(alert), Math.min(MAX_TIMER_MS, Math.max(0, until))),
      );
      return;
    }
    const wait = Math.max(0, alert.nextAt - this.o.controllerTime());
    this.#timers.set(
      id,
      this.o.clock.setTimeout(
        () => {
          if (alert.nextAt !== null && alert.nextAt - this.o.controllerTime() > 1000) this.#arm(alert);
          else void this.#air(alert);
        },
        Math.min(MAX_TIMER_MS, wait),
      ),
    );
  }

  async #expire(alert: ActiveAlert): Promise<void> {
    if (this.#alerts.get(alert.body.alertId) !== alert) return;
    if (this.o.controllerTime() < alert.body.alertExpiresAt) return this.#arm(alert);
    this.#timers.delete(alert.body.alertId);
    this.#alerts.delete(alert.body.alertId);
    this.o.log('alert expired', { alertId: alert.body.alertId });
    this.#persist();
  }

  /** Stops the alert's airing (playing or waiting) and its repeats. */
  #silence(alert: ActiveAlert): void {
    const id = alert.body.alertId;
    const timer = this.#timers.get(id);
    if (timer) this.o.clock.clearTimeout(timer);
    this.#timers.delete(id);
    for (let n = 0; n < Math.max(1, alert.airings); n++) this.o.stop({ itemId: airingId(id, alert.body.revision, n) });
    alert.nextAt = null;
  }

  #save(): Promise<void> {
    return this.o.store.save([...this.#alerts.values()]);
  }

  /** Saves in the background; a failure is logged (the store reports it as a fault). */
  #persist(): void {
    this.#save().catch((error: unknown) => this.o.log('alerts could not be saved', { error: String(error) }));
  }
}

/** The item id of one airing of an alert revision (within ItemId's 128 characters). */
export function airingId(alertId: string, revision: number, airing: number): string {
  return `${alertId.slice(0, 100)}.r${revision}.${airing}`;
}
