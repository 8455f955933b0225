import {
  type AssetRef,
  type LanguageCode,
  type PlayableItem,
  type Priority,
  priorityRank,
  type ScheduledItem,
} from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import type { PlayReport, PlaySource } from './play-report.js';
import type { Renderer, RenderOutcome, RenderProgress } from './renderer.js';

/**
 * The reason every stop aborts with, made once: without one, abort() builds a fresh
 * DOMException with its stack at each stop (4 % of a simulated fleet's CPU when a cancel
 * reaches a thousand receivers). Nothing reads it; the stop's cause is in `stopping`.
 */
const STOPPED = Object.freeze(new Error('playback stopped'));

/** How long after its interruption an item without endBy may still be resumed. */
export const RESUME_WINDOW_MS = 10 * 60_000;
/** How late an item without endBy may still start; after that it is missed. */
export const LATE_LIMIT_MS = 30 * 60_000;
/**
 * The longest the engine sleeps in one go. Airtimes are in controller time but the
 * engine's timer runs on the local monotonic clock; re-checking at least this often
 * bounds what clock drift or a clock-sync correction can do to an airtime (see `resync`).
 */
export const MAX_SLEEP_MS = 60_000;
/** How long a renderer may take to stop after an abort before the engine moves on without it. */
export const ABORT_GRACE_MS = 2_000;
/** Handled item ids are remembered this long (longer than any horizon). */
const HANDLED_TTL_MS = 9 * 86_400_000;
const HANDLED_PRUNE_ABOVE = 5_000;
/** Longest reason text (PlayEvent.reason is a ShortText). */
const REASON_MAX = 500;

export interface EngineOptions {
  clock: Clock;
  /** Controller time (local clock corrected by clock sync): airtimes are in controller time. */
  controllerTime: () => number;
  renderer: Renderer;
  /** Proof-of-play reports, in the order they happen. Must not throw (errors are caught and logged). */
  report: (report: PlayReport) => void;
  /** Items already played or reported (kept across restarts so nothing plays twice). */
  handled?: Iterable<readonly [string, number]>;
  /** Where the playing item is (every segment as it starts), e.g. for a status display. */
  progress?: (progress: PlayingNow) => void;
  log?: (message: string, detail?: Record<string, unknown>) => void;
  /** Overrides of the timing constants above (tests, the simulator). */
  resumeWindowMs?: number;
  lateLimitMs?: number;
  maxSleepMs?: number;
  abortGraceMs?: number;
}

/** The item on air and where it is, as `nowPlaying()` and the progress callback give it. */
export interface PlayingNow {
  itemId: string;
  priority: Priority;
  source: PlaySource;
  /** Repetition (1-based, counted over the whole item even after a resumption) and language now sounding. */
  repetition?: number;
  language?: LanguageCode;
  /** Controller time sound began (after the prelude), if it has. */
  soundAt?: number;
  /** True while the engine is stopping it. */
  stopping: boolean;
}

export interface UpcomingItem {
  itemId: string;
  title?: string;
  priority: Priority;
  /** When it became (or becomes) due, controller time. */
  startAt: number;
  /** `waiting`: due and queued behind the item on air; `scheduled`: not yet due. */
  state: 'waiting' | 'scheduled';
}

export interface StopRequest {
  itemId?: string;
  upToPriority?: Priority;
  reason?: string;
}

/** Something due to play: a provisioned airtime, a submitted item, or a resumption. */
interface Entry {
  item: PlayableItem;
  source: PlaySource;
  /** Controller time it became due (startAt, or when it was submitted). */
  due: number;
  /** The item's own endBy, if it has one. */
  endBy: number | undefined;
  /** It may start while controller time is before this; then it is missed. */
  deadline: number;
  scheduledAt: number | undefined;
  /** Arrival order, to break ties deterministically. */
  order: number;
  /** A resumption: repetitions already heard, so reports keep counting from the original. */
  repetitionOffset: number;
  resumed: boolean;
}

interface Stopping {
  reason: string;
  /** The item that takes over (pre-emption). */
  by?: string;
  /** Report `failed` rather than `interrupted` (the watchdog stopped a stuck renderer). */
  failure?: boolean;
  /** Controller time the abort was asked for. */
  at: number;
}

interface Playing {
  entry: Entry;
  abort: AbortController;
  /** Repetition as the renderer counts it (1-based, within this run). */
  localRepetition: number;
  language: LanguageCode | undefined;
  soundAt: number | undefined;
  stopping: Stopping | undefined;
  /** Controller time after which a renderer that has not ended is considered stuck. */
  watchdogAt: number;
  settled: boolean;
}

const rank = (e: Entry) => priorityRank(e.item.priority);

/** Arbitration order: higher priority first, then the one due first, then the one that came first. */
function before(a: Entry, b: Entry): boolean {
  const r = rank(a) - rank(b);
  if (r !== 0) return r > 0;
  if (a.due !== b.due) return a.due < b.due;
  return a.order < b.order;
}

/**
 * May `e` interrupt an item of priority `playing`? Only a strictly higher item, and only
 * if it asks to be on air at once: a `hard` start, anything at emergency priority (the
 * national rule: khẩn cấp is aired at once, interrupting everything), an alert or live
 * speech (which cannot wait). A higher `next`/`wait` item goes first once the current
 * item ends.
 */
function canPreempt(e: Entry, playing: Priority): boolean {
  if (rank(e) <= priorityRank(playing)) return false;
  return e.item.startMode === 'hard' || e.item.priority === 'emergency' || e.source === 'alert' || e.source === 'live';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decides what plays when, deterministically from its inputs, the injected clock and the
 * renderer. Only one item sounds at a time. Driven by a single timer armed to the next
 * moment anything can change (an airtime, a wait running out, an endBy): no per-item
 * timers and no tick. Sleeps are capped at MAX_SLEEP_MS (one cheap re-check a minute when
 * idle with items ahead; none at all with nothing ahead), and `resync()` re-times at once.
 *
 * Arbitration
 * - Priority: emergency > live > priority > normal. Among equal priority, the item due
 *   first, then the one that arrived first.
 * - `hard`: at its startAt it interrupts a LOWER item. Against an equal or higher item
 *   it waits like `next`: a hard normal item never cuts another normal item off, since
 *   the protocol's hard start is about lower items and a commune expects the bulletin on
 *   air to be heard to its end; it then starts as soon as that item ends.
 * - Emergency items, alerts and live speech interrupt any lower item whatever their
 *   start mode. The interrupting item is the one that then plays.
 * - `next`: starts when the current item ends (then by priority).
 * - `wait`: like next, but if it is still waiting waitS seconds after its startAt it is
 *   reported `skipped` (reason busy); waitS 0 means "now or never".
 * - An item that has not started when its endBy comes is reported `missed` (reason
 *   busy when something else was on air, too late otherwise, e.g. the receiver was
 *   off). Without endBy it may start up to LATE_LIMIT_MS after its startAt, so a
 *   receiver powered on in the evening does not air the morning's programme.
 * - An item that is playing past its endBy is not cut: endBy limits the start.
 *
 * Resumption
 * - An item interrupted by pre-emption whose priority is `priority` or higher (not live
 *   speech, which cannot be replayed) is queued again to play from the start of the
 *   repetition it was in, prelude included so listeners are called back to it, as soon
 *   as arbitration allows, while its endBy (without one: RESUME_WINDOW_MS after the
 *   interruption) has not passed. A warning or an important notice cut in half is
 *   useless, so it is heard whole, but repetitions already completely heard are not
 *   aired twice. It keeps its original place in the queue among equal items. If its
 *   window passes first, it is dropped quietly: its `interrupted` report already says
 *   it did not finish.
 * - An interrupted `normal` item is not replayed: the daily programme moves on, a late
 *   replay would push the following items off their times, and the `interrupted` report
 *   shows the commune what to reschedule.
 * - Items stopped (stop command), withdrawn by a new schedule revision, cut by shutdown
 *   or failed are never resumed.
 *
 * Proof of play
 * - `started` when sound begins (the first segment, after the prelude), with its
 *   language and repetition (reason `resumed` for a resumption); then exactly one of
 *   `finished`, `interrupted` (reason, interruptedBy) or `failed` (the renderer's
 *   reason). An item that never started is reported `missed` or `skipped` once.
 *   A start aborted or failed during the prelude has a terminal report without
 *   `started`.
 * - Every reported item is remembered (`handled()`) so that it never plays or is
 *   reported twice, also across restarts; an item is marked when it starts, so a
 *   power cut in the middle does not air it again from the start.
 *
 * Robustness
 * - Nothing throws out of the engine's timers or callbacks; a renderer that throws or
 *   rejects gives a `failed` report. A renderer that does not stop within
 *   ABORT_GRACE_MS of an abort is left behind so an emergency is not held up; one that
 *   runs far longer than its item can last (2 × (length + 30 s) + 60 s) is aborted
 *   and reported `failed` (renderer_timeout). Live items have no watchdog.
 */
export class PlaybackEngine {
  #revision = -1;
  #schedule: readonly ScheduledItem[] = [];
  /** Index of the first schedule item not yet looked at by `#collect`. */
  #cursor = 0;
  #ready: Entry[] = [];
  readonly #queued = new Set<string>();
  #playing: Playing | undefined;
  /** The item that pre-empted the playing one: it starts once the abort has settled. */
  #takeover: Entry | undefined;
  #timer: TimerHandle | undefined;
  #timerTarget = Number.NaN;
  #order = 0;
  #closed = false;
  #evaluating = false;
  #again = false;
  readonly #handled = new Map<string, number>();
  #handledSincePrune = 0;
  readonly #resumeWindowMs: number;
  readonly #lateLimitMs: number;
  readonly #maxSleepMs: number;
  readonly #abortGraceMs: number;

  constructor(private readonly o: EngineOptions) {
    for (const [id, at] of o.handled ?? []) this.#handled.set(id, at);
    this.#resumeWindowMs = o.resumeWindowMs ?? RESUME_WINDOW_MS;
    this.#lateLimitMs = o.lateLimitMs ?? LATE_LIMIT_MS;
    this.#maxSleepMs = Math.max(1, o.maxSleepMs ?? MAX_SLEEP_MS);
    this.#abortGraceMs = o.abortGraceMs ?? ABORT_GRACE_MS;
  }

  /** The schedule revision in force (-1 before the first). */
  get revision(): number {
    return this.#revision;
  }

  /**
   * A provisioned schedule. A newer revision replaces the timeline wholesale; a revision
   * not newer than the one in force is ignored (false). Items already handled are not
   * played again. A schedule item on air that the new revision no longer has is stopped
   * and reported interrupted (withdrawn); one waiting to start is reported skipped
   * (withdrawn). Items that stay keep their place; moved ones follow their new times.
   */
  setSchedule(body: {
    revision: number;
    items: readonly ScheduledItem[];
    horizonStart?: number;
    horizonEnd?: number;
    /** Not used here: the content cache fetches them. */
    assets?: readonly AssetRef[];
  }): boolean {
    if (this.#closed || !(body.revision > this.#revision)) return false;
    this.#revision = body.revision;
    // Stable: items with the same startAt keep their provisioned order.
    this.#schedule = [...body.items].sort((a, b) => a.startAt - b.startAt);
    this.#cursor = 0;
    const kept = new Set(this.#schedule.map((i) => i.itemId));
    for (const e of [...this.#ready]) {
      if (e.source !== 'schedule') continue;
      if (kept.has(e.item.itemId)) {
        // A waiting airtime is collected again from the new revision (its time or endBy may have moved).
        if (!e.resumed) this.#remove(e);
        continue;
      }
      this.#remove(e);
      if (e.resumed) this.#log('resumption withdrawn', { itemId: e.item.itemId });
      else this.#finishUnplayed(e, 'skipped', 'withdrawn');
    }
    const playing = this.#playing;
    if (playing?.entry.source === 'schedule' && !kept.has(playing.entry.item.itemId))
      this.#abort(playing, { reason: 'withdrawn' });
    this.#evaluate();
    return true;
  }

  /**
   * Air an item now, subject to priority arbitration: play.now, and later alerts (source
   * 'alert', emergency) and live sessions ('live'). `endBy` (controller time) limits how
   * late it may start. False if an item with this id is already queued, playing or handled.
   */
  submit(item: PlayableItem, source: PlaySource, endBy?: number): boolean {
    if (this.#closed) return false;
    const id = item.itemId;
    if (this.#handled.has(id) || this.#queued.has(id) || this.#playing?.entry.item.itemId === id) {
      this.#log('item already queued, playing or handled; ignored', { itemId: id, source });
      return false;
    }
    let now: number;
    try {
      now = this.#now();
    } catch (error) {
      this.#log('controller time unavailable', { error: errorText(error) });
      return false;
    }
    this.#enqueue({
      item,
      source,
      due: now,
      endBy,
      deadline: endBy ?? now + this.#lateLimitMs,
      scheduledAt: undefined,
      order: this.#order++,
      repetitionOffset: 0,
      resumed: false,
    });
    this.#evaluate();
    return true;
  }

  /** `submit` with the play.now source by default. */
  playNow(item: PlayableItem, source: PlaySource = 'play_now', endBy?: number): boolean {
    return this.submit(item, source, endBy);
  }

  /**
   * Stops the playing item and drops waiting ones that match: by id, at or below a
   * priority, or (neither given) everything. A not-yet-due schedule item named by id is
   * cancelled too (reported skipped, stopped). Returns how many items it affected.
   */
  stop(request: StopRequest): number {
    if (this.#closed) return 0;
    const ceiling = request.upToPriority === undefined ? undefined : priorityRank(request.upToPriority);
    const matches = (e: Entry) =>
      (request.itemId === undefined || e.item.itemId === request.itemId) &&
      (ceiling === undefined || rank(e) <= ceiling);
    let stopped = 0;
    for (const e of this.#ready.filter(matches)) {
      this.#remove(e);
      stopped++;
      if (e.resumed) this.#log('resumption stopped', { itemId: e.item.itemId });
      else this.#finishUnplayed(e, 'skipped', 'stopped');
    }
    if (request.itemId !== undefined && !this.#handled.has(request.itemId)) {
      const future = this.#schedule.find((i) => i.itemId === request.itemId);
      if (future && (ceiling === undefined || priorityRank(future.priority) <= ceiling)) {
        stopped++;
        this.#finishUnplayed(this.#scheduleEntry(future), 'skipped', 'stopped');
      }
    }
    const playing = this.#playing;
    if (playing && !playing.stopping && matches(playing.entry)) {
      this.#abort(playing, { reason: 'stopped' });
      stopped++;
    }
    this.#evaluate();
    return stopped;
  }

  /** Re-checks the timeline now: call after clock sync has changed the controller-time offset. */
  resync(): void {
    this.#timerTarget = Number.NaN;
    this.#evaluate();
  }

  /** The item on air (for the heartbeat), exactly as the telemetry schema has it. */
  current(): { itemId: string; priority: Priority } | null {
    const p = this.#playing;
    return p ? { itemId: p.entry.item.itemId, priority: p.entry.item.priority } : null;
  }

  /** The item on air with its progress. */
  nowPlaying(): PlayingNow | null {
    const p = this.#playing;
    return p ? this.#describe(p) : null;
  }

  /** Items waiting to start (in the order they would), then the coming airtimes. */
  upcoming(limit = 20): UpcomingItem[] {
    const out: UpcomingItem[] = [];
    const view = (item: PlayableItem, startAt: number, state: UpcomingItem['state']): UpcomingItem => ({
      itemId: item.itemId,
      ...(item.title === undefined ? {} : { title: item.title }),
      priority: item.priority,
      startAt,
      state,
    });
    for (const e of [...this.#ready].sort((a, b) => (before(a, b) ? -1 : 1))) {
      if (out.length >= limit) return out;
      out.push(view(e.item, e.due, 'waiting'));
    }
    const playingId = this.#playing?.entry.item.itemId;
    for (let i = this.#cursor; i < this.#schedule.length && out.length < limit; i++) {
      const item = this.#schedule[i] as ScheduledItem;
      if (this.#handled.has(item.itemId) || this.#queued.has(item.itemId) || item.itemId === playingId) continue;
      out.push(view(item, item.startAt, 'scheduled'));
    }
    return out;
  }

  /** Item ids already played or reported, with when (for the agent to save). */
  handled(): Array<[string, number]> {
    return [...this.#handled];
  }

  /** Stops the engine (the agent is shutting down): no more timers; the playing item is aborted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#playing) this.#abort(this.#playing, { reason: 'shutdown' });
  }

  // --- the decision step -------------------------------------------------------------

  #evaluate(): void {
    if (this.#closed) return;
    // A report callback may call back into the engine: run the step again instead of nesting.
    if (this.#evaluating) {
      this.#again = true;
      return;
    }
    this.#evaluating = true;
    try {
      let rounds = 0;
      do {
        this.#again = false;
        try {
          this.#step();
        } catch (error) {
          this.#log('playback evaluation failed', { error: errorText(error) });
        }
      } while (this.#again && ++rounds < 100);
    } finally {
      this.#evaluating = false;
    }
    try {
      this.#arm();
    } catch (error) {
      this.#log('playback timer failed', { error: errorText(error) });
    }
  }

  #step(): void {
    const now = this.#now();
    this.#collect(now);
    this.#expireMissed(now);
    this.#watch(now);
    this.#dispatch(now);
    this.#expireWaits(now);
  }

  /** Airtimes that have come join the queue. */
  #collect(now: number): void {
    const schedule = this.#schedule;
    const playingId = this.#playing?.entry.item.itemId;
    while (this.#cursor < schedule.length) {
      const item = schedule[this.#cursor] as ScheduledItem;
      if (item.startAt > now) break;
      this.#cursor++;
      if (this.#handled.has(item.itemId) || this.#queued.has(item.itemId) || item.itemId === playingId) continue;
      this.#enqueue(this.#scheduleEntry(item));
    }
  }

  #scheduleEntry(item: ScheduledItem): Entry {
    return {
      item,
      source: 'schedule',
      due: item.startAt,
      endBy: item.endBy,
      deadline: item.endBy ?? item.startAt + this.#lateLimitMs,
      scheduledAt: item.startAt,
      order: this.#order++,
      repetitionOffset: 0,
      resumed: false,
    };
  }

  /** Waiting items whose window has closed are missed (resumptions are dropped). */
  #expireMissed(now: number): void {
    for (const e of [...this.#ready]) {
      if (e.deadline > now) continue;
      this.#remove(e);
      if (e.resumed) this.#log('resumption window passed', { itemId: e.item.itemId });
      else this.#finishUnplayed(e, 'missed', this.#playing ? 'busy' : 'too late');
    }
  }

  /** A renderer that does not stop when told, or runs far too long, is not allowed to block playback. */
  #watch(now: number): void {
    const p = this.#playing;
    if (!p) return;
    if (p.stopping) {
      if (now >= p.stopping.at + this.#abortGraceMs) {
        this.#log('renderer did not stop after abort; moving on', { itemId: p.entry.item.itemId });
        const playedMs = p.soundAt === undefined ? 0 : Math.max(0, Math.round(now - p.soundAt));
        this.#settle(p, { result: 'aborted', playedMs }, false);
      }
    } else if (now >= p.watchdogAt) {
      this.#log('renderer overran its item; aborting', { itemId: p.entry.item.itemId });
      this.#abort(p, { reason: 'renderer_timeout', failure: true });
    }
  }

  #dispatch(now: number): void {
    const playing = this.#playing;
    if (playing) {
      const challenger = this.#bestWhere((e) => canPreempt(e, playing.entry.item.priority));
      if (!challenger) return;
      if (!playing.stopping) {
        this.#takeover = challenger;
        this.#abort(playing, { reason: 'pre-empted', by: challenger.item.itemId });
      } else if (
        playing.stopping.reason === 'pre-empted' &&
        (!this.#takeover || !this.#queued.has(this.#takeover.item.itemId) || before(challenger, this.#takeover))
      ) {
        // Something higher still came while the abort settles: it is the one that takes over.
        this.#takeover = challenger;
        playing.stopping.by = challenger.item.itemId;
      }
      return;
    }
    const takeover = this.#takeover;
    this.#takeover = undefined;
    let next = this.#bestWhere(() => true);
    if (takeover && this.#ready.includes(takeover) && (!next || rank(takeover) >= rank(next))) next = takeover;
    if (next) this.#start(next, now);
  }

  /** `wait` items still waiting when their patience runs out are skipped. */
  #expireWaits(now: number): void {
    for (const e of [...this.#ready]) {
      if (e.item.startMode !== 'wait' || e.resumed) continue;
      if (now < e.due + (e.item.waitS ?? 0) * 1000) continue;
      this.#remove(e);
      this.#finishUnplayed(e, 'skipped', 'busy');
    }
  }

  #bestWhere(ok: (e: Entry) => boolean): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#ready) if (ok(e) && (!best || before(e, best))) best = e;
    return best;
  }

  // --- playing -------------------------------------------------------------------------

  #start(entry: Entry, now: number): void {
    this.#remove(entry);
    this.#markHandled(entry.item.itemId, now);
    const { item } = entry;
    const lengthMs = item.segments.reduce((sum, s) => sum + s.durationMs, 0) * item.repeat + 30_000;
    const playing: Playing = {
      entry,
      abort: new AbortController(),
      localRepetition: 1,
      language: undefined,
      soundAt: undefined,
      stopping: undefined,
      watchdogAt: entry.source === 'live' ? Number.POSITIVE_INFINITY : now + 2 * lengthMs + 60_000,
      settled: false,
    };
    this.#playing = playing;
    let outcome: Promise<RenderOutcome>;
    try {
      outcome = Promise.resolve(
        this.o.renderer.render(item, playing.abort.signal, (progress) => this.#onProgress(playing, progress)),
      );
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => this.#settle(playing, result, true),
      (error: unknown) =>
        this.#settle(playing, { result: 'failed', playedMs: 0, reason: `renderer_error: ${errorText(error)}` }, true),
    );
  }

  #onProgress(playing: Playing, progress: RenderProgress): void {
    try {
      if (playing.settled || playing.stopping || this.#closed) return;
      playing.localRepetition = progress.repetition;
      playing.language = progress.language;
      if (playing.soundAt === undefined) {
        playing.soundAt = this.#now();
        this.#report(playing.entry, 'started', {
          language: progress.language,
          repetition: progress.repetition + playing.entry.repetitionOffset,
          ...(playing.entry.resumed ? { reason: 'resumed' } : {}),
        });
      }
      this.o.progress?.(this.#describe(playing));
    } catch (error) {
      this.#log('progress handling failed', { error: errorText(error) });
    }
  }

  /** The render has ended (or been given up on): exactly one terminal report, then what comes next. */
  #settle(playing: Playing, outcome: RenderOutcome | undefined, fromRenderer: boolean): void {
    if (playing.settled) {
      if (fromRenderer) this.#log('renderer ended after it was given up on', { itemId: playing.entry.item.itemId });
      return;
    }
    playing.settled = true;
    try {
      if (this.#playing === playing) this.#playing = undefined;
      const { entry, stopping } = playing;
      const result = outcome && typeof outcome === 'object' ? outcome : undefined;
      const playedMs = Math.max(0, Math.round(Number(result?.playedMs) || 0));
      if (playing.soundAt === undefined && playedMs > 0 && !stopping?.failure) {
        // The renderer sounded without telling us when: the start is still owed.
        playing.soundAt = this.#now();
        this.#report(entry, 'started', {
          repetition: entry.repetitionOffset + 1,
          ...(entry.resumed ? { reason: 'resumed' } : {}),
        });
      }
      const where = {
        playedMs,
        ...(playing.soundAt === undefined
          ? {}
          : {
              repetition: playing.localRepetition + entry.repetitionOffset,
              ...(playing.language ? { language: playing.language } : {}),
            }),
      };
      if (stopping?.failure) {
        this.#report(entry, 'failed', { ...where, reason: stopping.reason });
      } else if (result?.result === 'finished') {
        this.#report(entry, 'finished', where);
      } else if (stopping) {
        this.#report(entry, 'interrupted', {
          ...where,
          reason: stopping.reason,
          ...(stopping.by ? { interruptedBy: stopping.by } : {}),
        });
        if (stopping.reason === 'pre-empted') this.#maybeResume(playing);
      } else if (result?.result === 'failed') {
        this.#report(entry, 'failed', { ...where, reason: String(result.reason || 'failed') });
      } else if (result?.result === 'aborted') {
        this.#report(entry, 'interrupted', { ...where, reason: String(result.reason || 'renderer_aborted') });
      } else {
        this.#report(entry, 'failed', { ...where, reason: 'renderer_error: no outcome' });
      }
    } catch (error) {
      this.#log('settling a render failed', { error: errorText(error) });
    }
    this.#evaluate();
  }

  /** The resumption rule (see the class comment). */
  #maybeResume(playing: Playing): void {
    const { entry } = playing;
    if (this.#closed || entry.item.priority === 'normal' || entry.source === 'live') return;
    const now = this.#now();
    const deadline = entry.endBy ?? now + this.#resumeWindowMs;
    if (deadline <= now) return;
    const heard = Math.min(Math.max(playing.localRepetition, 1), entry.item.repeat) - 1;
    this.#enqueue({
      ...entry,
      item: { ...entry.item, repeat: entry.item.repeat - heard, startMode: 'next' },
      deadline,
      repetitionOffset: entry.repetitionOffset + heard,
      resumed: true,
    });
  }

  #abort(playing: Playing, why: Omit<Stopping, 'at'>): void {
    if (playing.stopping || playing.settled) return;
    playing.stopping = { ...why, at: this.#now() };
    try {
      playing.abort.abort(STOPPED);
    } catch (error) {
      this.#log('abort listener failed', { error: errorText(error) });
    }
  }

  // --- bookkeeping -----------------------------------------------------------------

  #enqueue(entry: Entry): void {
    this.#ready.push(entry);
    this.#queued.add(entry.item.itemId);
  }

  #remove(entry: Entry): void {
    const i = this.#ready.indexOf(entry);
    if (i >= 0) this.#ready.splice(i, 1);
    this.#queued.delete(entry.item.itemId);
  }

  #finishUnplayed(entry: Entry, state: 'missed' | 'skipped', reason: string): void {
    this.#markHandled(entry.item.itemId, this.#now());
    this.#report(entry, state, { reason });
  }

  #report(entry: Entry, state: PlayReport['state'], extra: Partial<PlayReport>): void {
    const report: PlayReport = {
      type: 'play',
      itemId: entry.item.itemId,
      source: entry.source,
      state,
      priority: entry.item.priority,
      ...(entry.scheduledAt === undefined ? {} : { scheduledAt: entry.scheduledAt }),
      ...extra,
    };
    if (report.reason !== undefined && report.reason.length > REASON_MAX)
      report.reason = report.reason.slice(0, REASON_MAX);
    try {
      this.o.report(report);
    } catch (error) {
      this.#log('play report callback failed', { itemId: report.itemId, state, error: errorText(error) });
    }
  }

  #describe(p: Playing): PlayingNow {
    return {
      itemId: p.entry.item.itemId,
      priority: p.entry.item.priority,
      source: p.entry.source,
      ...(p.soundAt === undefined
        ? {}
        : {
            repetition: p.localRepetition + p.entry.repetitionOffset,
            ...(p.language ? { language: p.language } : {}),
            soundAt: p.soundAt,
          }),
      stopping: p.stopping !== undefined,
    };
  }

  #markHandled(itemId: string, now: number): void {
    this.#handled.set(itemId, now);
    if (this.#handled.size > HANDLED_PRUNE_ABOVE && ++this.#handledSincePrune >= 500) {
      this.#handledSincePrune = 0;
      for (const [id, at] of this.#handled) if (at < now - HANDLED_TTL_MS) this.#handled.delete(id);
    }
  }

  #now(): number {
    return this.o.controllerTime();
  }

  #log(message: string, detail?: Record<string, unknown>): void {
    try {
      this.o.log?.(message, detail);
    } catch {
      // Logging must never break playback.
    }
  }

  /** One timer, to the next moment something can change. */
  #arm(): void {
    if (this.#closed) return;
    const now = this.#now();
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.#cursor; i < this.#schedule.length; i++) {
      const item = this.#schedule[i] as ScheduledItem;
      if (this.#handled.has(item.itemId)) continue;
      next = item.startAt;
      break;
    }
    for (const e of this.#ready) {
      next = Math.min(next, e.deadline);
      if (e.item.startMode === 'wait' && !e.resumed) next = Math.min(next, e.due + (e.item.waitS ?? 0) * 1000);
    }
    const p = this.#playing;
    if (p) next = Math.min(next, p.stopping ? p.stopping.at + this.#abortGraceMs : p.watchdogAt);
    if (next === this.#timerTarget && this.#timer) return;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerTarget = next;
    if (!Number.isFinite(next)) return;
    const delay = Math.min(Math.max(0, Math.ceil(next - now)), this.#maxSleepMs);
    this.#timer = this.o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerTarget = Number.NaN;
      this.#evaluate();
    }, delay);
  }
}
