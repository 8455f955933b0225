import type { PlayableItem, ScheduledItem } from '@loa/protocols';
import { expect } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { Clock, TimerHandle } from '../../src/hardware/seams.js';
import type { PlayReport } from '../../src/playback/play-report.js';
import { type EngineOptions, PlaybackEngine, type PlayingNow } from '../../src/playback/playback-engine.js';
import type { Renderer } from '../../src/playback/renderer.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';

export const T0 = Date.parse('2026-11-23T23:00:00Z');
export const SHA = 'a'.repeat(64);
export const S = 1000;
export const MIN = 60_000;

/** A scheduled item: by default normal, hard, no prelude, Vietnamese 60 s then Hmong 30 s, once, at T0. */
export function item(id: string, over: Partial<ScheduledItem> = {}): ScheduledItem {
  return {
    itemId: id,
    priority: 'normal',
    startMode: 'hard',
    volume: 80,
    repeat: 1,
    prelude: 'none',
    segments: [
      { language: 'vie', sha256: SHA, durationMs: 60 * S },
      { language: 'hmn', sha256: SHA, durationMs: 30 * S },
    ],
    startAt: T0,
    ...over,
  };
}

/** The same as a play-now item (no airtime). */
export function playable(id: string, over: Partial<PlayableItem> = {}): PlayableItem {
  const { startAt: _s, endBy: _e, ...rest } = item(id, over);
  return rest;
}

/** A clock that counts the timers set through it (the engine's), on a shared manual clock. */
export function countingClock(clock: ManualClock) {
  const pending = new Set<TimerHandle>();
  const stats = { created: 0, maxPending: 0, pending: () => pending.size };
  const counted: Clock = {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    setTimeout: (callback, ms) => {
      const handle = clock.setTimeout(() => {
        pending.delete(handle);
        callback();
      }, ms);
      pending.add(handle);
      stats.created++;
      stats.maxPending = Math.max(stats.maxPending, pending.size);
      return handle;
    },
    clearTimeout: (handle) => {
      pending.delete(handle);
      clock.clearTimeout(handle);
    },
  };
  return { counted, stats };
}

export interface SetupOptions {
  fail?: (item: PlayableItem) => string | undefined;
  renderer?: (clock: ManualClock, timed: TimedRenderer) => Renderer;
  offset?: () => number;
  engine?: Partial<EngineOptions>;
}

/** An engine on a manual clock with the timed renderer, recording reports with the time they were made. */
export function setup(options: SetupOptions = {}) {
  const clock = new ManualClock(T0);
  const { counted, stats } = countingClock(clock);
  const reports: PlayReport[] = [];
  const timeline: string[] = [];
  const progress: PlayingNow[] = [];
  const timed = new TimedRenderer(clock, options.fail);
  const renderer = options.renderer ? options.renderer(clock, timed) : timed;
  const offset = options.offset ?? (() => 0);
  const logs: string[] = [];
  const engine = new PlaybackEngine({
    clock: counted,
    controllerTime: () => clock.now() + offset(),
    renderer,
    report: (r) => {
      reports.push(r);
      timeline.push(`${(clock.now() - T0) / S} ${r.itemId} ${r.state}${r.reason ? ` (${r.reason})` : ''}`);
    },
    progress: (p) => progress.push(p),
    log: (message) => logs.push(message),
    ...options.engine,
  });
  const states = () => reports.map((r) => `${r.itemId} ${r.state}${r.reason ? ` (${r.reason})` : ''}`);
  /** Progress of one item as "repetition:language". */
  const heard = (id: string) =>
    progress.filter((p) => p.itemId === id).map((p) => `${p.repetition as number}:${p.language as string}`);
  const of = (id: string) => reports.filter((r) => r.itemId === id);
  /** Moves to T0 + seconds (controller time when there is no offset). */
  const at = async (seconds: number) => clock.advance(T0 + seconds * S - clock.now());
  return { clock, engine, reports, timeline, progress, heard, of, states, timed, renderer, stats, logs, at };
}

/**
 * Proof-of-play invariants, per item: every `started` is followed by exactly one terminal
 * (finished / interrupted / failed) before anything else happens to that item; `missed`
 * and `skipped` never follow a `started` without its terminal; a second run of the same
 * item only follows an `interrupted` (a resumption).
 */
export function expectProofOfPlay(reports: PlayReport[]): void {
  const open = new Map<string, boolean>();
  const runs = new Map<string, string[]>();
  for (const r of reports) {
    const history = runs.get(r.itemId) ?? [];
    runs.set(r.itemId, history);
    if (r.state === 'started') {
      expect(open.get(r.itemId), `${r.itemId} started twice without an end`).not.toBe(true);
      if (history.length > 0) expect(history.at(-1), `${r.itemId} ran again`).toBe('interrupted');
      open.set(r.itemId, true);
    } else if (r.state === 'missed' || r.state === 'skipped') {
      expect(open.get(r.itemId), `${r.itemId} ${r.state} while playing`).not.toBe(true);
      expect(history, `${r.itemId} ${r.state} after other reports`).toEqual([]);
    } else {
      open.set(r.itemId, false);
    }
    history.push(r.state);
  }
}
