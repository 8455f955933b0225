import { type LanguageCode, type PlayableItem, type Priority, priorityRank, type ScheduledItem } from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import type { PlayReport, PlaySource } from './play-report.js';
import type { Renderer, RenderProgress } from './renderer.js';

/** Something due to play: a provisioned airtime, or an item submitted now. */
interface Entry {
  item: PlayableItem;
  source: PlaySource;
  /** Controller time it became due. */
  due: number;
  endBy?: number;
  scheduledAt?: number;
  /** Arrival order, to break ties. */
  order: number;
}

interface Playing {
  entry: Entry;
  abort: AbortController;
  /** Set when the engine aborts it: why, and which item took over. */
  stopped?: { reason: string; by?: string };
  repetition: number;
  started: boolean;
}

export interface EngineOptions {
  clock: Clock;
  /** Controller time (local clock corrected by clock sync): airtimes are in controller time. */
  controllerTime: () => number;
  renderer: Renderer;
  report: (report: PlayReport) => void;
  /** Items already played or reported (kept across restarts so nothing plays twice). */
  handled?: Iterable<[string, number]>;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** How long after an interruption an item without endBy may still resume. */
export const RESUME_WINDOW_MS = 10 * 60_000;
/** Handled item ids are remembered this long (longer than any horizon). */
const HANDLED_TTL_MS = 9 * 86_400_000;

/**
 * Decides what plays when, deterministically from its inputs and the clock.
 *
 * - Priority: emergency > live > priority > normal. Only one item sounds at a time.
 * - `hard`: at its time, interrupts a *lower* item; against an equal or higher item it
 *   waits like `next` (a hard normal item must not cut another normal item off).
 * - `next`: starts when the current item ends. `wait`: as next, but gives up after
 *   waitS seconds and is reported `skipped` (reason busy).
 * - An item that cannot start before its `endBy` is reported `missed`.
 * - Resumption: an interrupted `priority` or `emergency` item plays again, from the start
 *   of the repetition it was in, once the interrupting item ends, if its endBy (or, without
 *   one, 10 minutes) has not passed: warnings and important notices must be heard whole.
 *   An interrupted `normal` item is not replayed (the next bulletin follows anyway), and
 *   live speech cannot be replayed.
 * - Proof of play: `started` when the first segment sounds (after the prelude), then
 *   exactly one of finished / interrupted / failed; or missed / skipped without starting.
 */
export class PlaybackEngine {
  #revision = -1;
  #schedule: ScheduledItem[] = [];
  #ready: Entry[] = [];
  #playing: Playing | undefined;
  #timer: TimerHandle | undefined;
  #order = 0;
  readonly #handled = new Map<string, number>();

  constructor(private readonly o: EngineOptions) {
    for (const [id, at] of o.handled ?? []) this.#handled.set(id, at);
  }

  get revision(): number {
    return this.#revision;
  }

  /** A provisioned schedule; a newer revision replaces the older wholesale. */
  setSchedule(body: { revision: number; items: ScheduledItem[] }): boolean {
    if (body.revision <= this.#revision) return false;
    this.#revision = body.revision;
    this.#schedule = [...body.items].sort((a, b) => a.startAt - b.startAt);
    const kept = new Set(this.#schedule.map((i) => i.itemId));
    this.#ready = this.#ready.filter((e) => e.source !== 'schedule' || kept.has(e.item.itemId));
    const playing = this.#playing;
    if (playing?.entry.source === 'schedule' && !kept.has(playing.entry.item.itemId))
      this.#abort(playing, { reason: 'withdrawn' });
    this.#evaluate();
    return true;
  }

  /** Plays an item now (subject to priority), e.g. play.now, an alert, a live session or a test. */
  submit(item: PlayableItem, source: PlaySource, endBy?: number): void {
    if (this.#handled.has(item.itemId)) return;
    const now = this.o.controllerTime();
    this.#ready.push({ item, source, due: now, ...(endBy === undefined ? {} : { endBy }), order: this.#order++ });
    this.#evaluate();
  }

  /** Stops the playing item (by id, or if at or below a priority) and drops matching waiting items. */
  stop(request: { itemId?: string; upToPriority?: Priority }): number {
    const matches = (e: Entry) =>
      (request.itemId === undefined || e.item.itemId === request.itemId) &&
      (request.upToPriority === undefined || priorityRank(e.item.priority) <= priorityRank(request.upToPriority));
    let stopped = 0;
    for (const entry of this.#ready.filter(matches)) {
      this.#finishWithout(entry, 'skipped', 'stopped');
      stopped++;
    }
    this.#ready = this.#ready.filter((e) => !matches(e));
    if (request.itemId) {
      const upcoming = this.#schedule.find((i) => i.itemId === request.itemId);
      if (upcoming && !this.#handled.has(upcoming.itemId)) {
        this.#markHandled(upcoming.itemId);
        stopped++;
      }
    }
    if (this.#playing && matches(this.#playing.entry)) {
      this.#abort(this.#playing, { reason: 'stopped' });
      stopped++;
    }
    this.#evaluate();
    return stopped;
  }

  current(): { itemId: string; priority: Priority } | null {
    const p = this.#playing;
    return p ? { itemId: p.entry.item.itemId, priority: p.entry.item.priority } : null;
  }

  upcoming(limit = 20): Array<{ itemId: string; title?: string; priority: Priority; startAt: number }> {
    return this.#schedule
      .filter((i) => !this.#handled.has(i.itemId))
      .slice(0, limit)
      .map((i) => ({
        itemId: i.itemId,
        priority: i.priority,
        startAt: i.startAt,
        ...(i.title ? { title: i.title } : {}),
      }));
  }

  /** Item ids already played or reported, with when (for the agent to save). */
  handled(): Array<[string, number]> {
    return [...this.#handled];
  }

  /** Stops the timer (the agent is shutting down); a playing item is aborted. */
  close(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#playing) this.#abort(this.#playing, { reason: 'shutdown' });
  }

  #evaluate(): void {
    try {
      this.#collectDue();
      this.#expire();
      this.#dispatch();
      this.#arm();
    } catch (error) {
      this.o.log?.('playback evaluation failed', { error: String(error) });
    }
  }

  /** Moves airtimes that have come into the ready list. */
  #collectDue(): void {
    const now = this.o.controllerTime();
    for (const item of this.#schedule) {
      if (item.startAt > now) break;
      if (this.#handled.has(item.itemId) || this.#ready.some((e) => e.item.itemId === item.itemId)) continue;
      if (this.#playing?.entry.item.itemId === item.itemId) continue;
      this.#ready.push({
        item,
        source: 'schedule',
        due: item.startAt,
        scheduledAt: item.startAt,
        ...(item.endBy === undefined ? {} : { endBy: item.endBy }),
        order: this.#order++,
      });
    }
  }

  /** Waiting items past their end are missed; `wait` items past their patience are skipped. */
  #expire(): void {
    const now = this.o.controllerTime();
    this.#ready = this.#ready.filter((e) => {
      if (e.endBy !== undefined && e.endBy <= now) {
        this.#finishWithout(e, 'missed', this.#playing ? 'busy' : 'too late');
        return false;
      }
      if (e.item.startMode === 'wait' && this.#playing && now > e.due + (e.item.waitS ?? 0) * 1000) {
        this.#finishWithout(e, 'skipped', 'busy');
        return false;
      }
      return true;
    });
  }

  #dispatch(): void {
    const best = this.#best();
    if (!best) return;
    const playing = this.#playing;
    if (!playing) {
      this.#start(best);
      return;
    }
    const higher = priorityRank(best.item.priority) > priorityRank(playing.entry.item.priority);
    if (higher && (best.item.startMode === 'hard' || best.source === 'alert' || best.source === 'live'))
      this.#abort(playing, { reason: 'pre-empted', by: best.item.itemId });
  }

  #best(): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#ready) {
      if (
        !best ||
        priorityRank(e.item.priority) > priorityRank(best.item.priority) ||
        (priorityRank(e.item.priority) === priorityRank(best.item.priority) &&
          (e.due < best.due || (e.due === best.due && e.order < best.order)))
      )
        best = e;
    }
    return best;
  }

  #start(entry: Entry): void {
    this.#ready = this.#ready.filter((e) => e !== entry);
    this.#markHandled(entry.item.itemId);
    const playing: Playing = { entry, abort: new AbortController(), repetition: 1, started: false };
    this.#playing = playing;
    let language: LanguageCode | undefined;
    const onProgress = (p: RenderProgress) => {
      playing.repetition = p.repetition;
      language = p.language;
      if (!playing.started) {
        playing.started = true;
        this.#report(entry, 'started', { language, repetition: p.repetition });
      }
    };
    this.o.renderer
      .render(entry.item, playing.abort.signal, onProgress)
      .catch((error: unknown) => ({ result: 'failed' as const, playedMs: 0, reason: String(error) }))
      .then((outcome) => {
        if (this.#playing === playing) this.#playing = undefined;
        const extra = { playedMs: outcome.playedMs, repetition: playing.repetition, ...(language ? { language } : {}) };
        if (outcome.result === 'finished') this.#report(entry, 'finished', extra);
        else if (outcome.result === 'failed')
          this.#report(entry, 'failed', { ...extra, reason: outcome.reason.slice(0, 500) });
        else {
          const why = playing.stopped ?? { reason: 'aborted' };
          this.#report(entry, 'interrupted', {
            ...extra,
            reason: why.reason,
            ...(why.by ? { interruptedBy: why.by } : {}),
          });
          if (why.reason === 'pre-empted') this.#maybeResume(playing);
        }
        this.#evaluate();
      });
  }

  /** The resumption rule (see the class comment). */
  #maybeResume(playing: Playing): void {
    const { entry } = playing;
    const rank = priorityRank(entry.item.priority);
    if (rank < priorityRank('priority') || entry.source === 'live') return;
    const now = this.o.controllerTime();
    const endBy = entry.endBy ?? now + RESUME_WINDOW_MS;
    if (endBy <= now) return;
    const remaining = entry.item.repeat - playing.repetition + 1;
    this.#ready.push({
      ...entry,
      item: { ...entry.item, repeat: Math.max(1, remaining) },
      endBy,
      order: this.#order++,
    });
  }

  #abort(playing: Playing, why: { reason: string; by?: string }): void {
    if (playing.stopped) return;
    playing.stopped = why;
    playing.abort.abort();
  }

  #finishWithout(entry: Entry, state: 'missed' | 'skipped', reason: string): void {
    this.#markHandled(entry.item.itemId);
    this.#report(entry, state, { reason });
  }

  #report(entry: Entry, state: PlayReport['state'], extra: Partial<PlayReport>): void {
    this.o.report({
      type: 'play',
      itemId: entry.item.itemId,
      source: entry.source,
      state,
      priority: entry.item.priority,
      ...(entry.scheduledAt === undefined ? {} : { scheduledAt: entry.scheduledAt }),
      ...extra,
    } as PlayReport);
  }

  #markHandled(itemId: string): void {
    const now = this.o.controllerTime();
    this.#handled.set(itemId, now);
    if (this.#handled.size > 5000)
      for (const [id, at] of this.#handled) if (at < now - HANDLED_TTL_MS) this.#handled.delete(id);
  }

  /** One timer, to the next moment something can change: an airtime, a wait running out, an end. */
  #arm(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.o.controllerTime();
    let next = Number.POSITIVE_INFINITY;
    const upcoming = this.#schedule.find((i) => i.startAt > now && !this.#handled.has(i.itemId));
    if (upcoming) next = upcoming.startAt;
    for (const e of this.#ready) {
      if (e.endBy !== undefined) next = Math.min(next, e.endBy);
      if (e.item.startMode === 'wait') next = Math.min(next, e.due + (e.item.waitS ?? 0) * 1000 + 1);
    }
    if (!Number.isFinite(next)) return;
    // Long sleeps are cut into steps so a clock-sync correction is taken into account.
    const delay = Math.min(Math.max(0, next - now), 60_000);
    this.#timer = this.o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#evaluate();
    }, delay);
  }
}
