import type { LivePacket } from '@loa/protocols';

/** Missing frames in a row that are concealed (libopus PLC); after that, silence. */
export const CONCEAL_FRAMES = 3;
/** More than this share of a second's frames arriving late raises the extra delay by a frame. */
export const LATE_RATIO = 0.02;
export const LATE_WINDOW_MS = 1000;
/** This long without a late frame (or a change of delay) lowers the extra delay by a frame. */
export const LOWER_AFTER_MS = 10_000;
/** How long a due lowering waits for a quiet frame to drop before it drops whatever comes. */
export const LOWER_PATIENCE_MS = 2000;
/** Frames meant to be heard further ahead than this are refused (bounded memory, bogus times). */
export const MAX_AHEAD_MS = 10_000;

export interface JitterBufferOptions {
  frameMs: number;
  /** The session's latency: frame k of a packet is heard at captureTs + k·frameMs + latencyMs (+ extra delay). */
  latencyMs: number;
  concealFrames?: number;
  lateRatio?: number;
  lateWindowMs?: number;
  lowerAfterMs?: number;
  lowerPatienceMs?: number;
  maxAheadMs?: number;
}

/** What to sound for one frame's worth of time, and when (controller time) it must be heard. */
export type PlayoutFrame =
  | { kind: 'audio'; slot: number; playoutAt: number; data: Uint8Array; seq: number; frameIndex: number }
  /** Nothing arrived for this slot (or a frame is inserted to raise the delay): libopus conceals it. */
  | { kind: 'conceal'; slot: number; playoutAt: number; inserted: boolean }
  /** Missing for longer than concealment makes sense. */
  | { kind: 'silence'; slot: number; playoutAt: number; inserted: boolean };

export interface JitterStats {
  /** Frames taken in. */
  received: number;
  /** Frames refused because their packet, or their slot, was already there. */
  duplicates: number;
  /** Frames that came after their slot had been played (or its time had passed). */
  late: number;
  /** Frames whose time had passed before the stream started here (a late joiner), or after its end. */
  skipped: number;
  /** Frames refused for being meant more than maxAheadMs ahead. */
  tooEarly: number;
  /** Slots played without their frame (concealed or silent). */
  missing: number;
  /** Frames inserted to raise the delay, and dropped to lower it. */
  inserted: number;
  dropped: number;
}

interface Buffered {
  slot: number;
  data: Uint8Array;
  seq: number;
  frameIndex: number;
}

/** Sequence numbers remembered for duplicate detection (far more than are ever in flight). */
const SEEN_SEQS = 4096;

/**
 * The receiver's jitter buffer for one live session. Pure: every call is given the
 * controller time, so it runs on a fake time in tests.
 *
 * Frames are kept by their slot, the controller time they were captured (captureTs +
 * k·frameMs); a frame is heard at slot + latencyMs + extraDelayMs. `start()` picks the
 * first frame still to be heard (earlier ones are skipped: a receiver that joins late
 * plays in step with the others, not behind them), then every `take()` gives the next
 * frame's worth in order: the frame of that slot, or, when it is missing, a concealed
 * frame (up to `concealFrames` in a row) and then silence. Slots follow on from the
 * frame last played, so a timeline the controller anchored again after a pause is
 * followed within half a frame.
 *
 * Adaptive delay: extraDelayMs starts at 0, so every receiver of an area plays at the
 * same time. When more than `lateRatio` of the last second's frames came too late, it
 * rises by a frame (an inserted concealed frame; at most latencyMs more in all); late
 * frames of the next second then do not count, so one burst raises it once. After
 * `lowerAfterMs` without a late frame it falls by a frame again: the caller offers each
 * frame to `lowerNow()`, which drops one, preferably a quiet one.
 */
export class JitterBuffer {
  readonly stats: JitterStats = {
    received: 0,
    duplicates: 0,
    late: 0,
    skipped: 0,
    tooEarly: 0,
    missing: 0,
    inserted: 0,
    dropped: 0,
  };
  readonly #frameMs: number;
  readonly #latencyMs: number;
  readonly #tolerance: number;
  readonly #concealFrames: number;
  readonly #lateRatio: number;
  readonly #lateWindowMs: number;
  readonly #lowerAfterMs: number;
  readonly #lowerPatienceMs: number;
  readonly #maxAheadMs: number;
  /** Sorted by slot. */
  #frames: Buffered[] = [];
  /** The slot of the next frame to play, once started. */
  #cursor: number | undefined;
  #extra = 0;
  #missingRun = 0;
  /** Controller times of late arrivals within the last window. */
  #lateAt: number[] = [];
  #raise = false;
  /** After a raise, late frames wait this long before they count again (the rest of the same burst). */
  #holdLateUntil = Number.NEGATIVE_INFINITY;
  /** Since when no frame was late and the delay did not change. */
  #calmSince: number | undefined;
  #lowerDueSince: number | undefined;
  #draining = false;
  #end: number | undefined;
  readonly #seen = new Set<number>();

  constructor(o: JitterBufferOptions) {
    if (!(o.frameMs > 0)) throw new Error(`frameMs must be positive, not ${o.frameMs}`);
    if (!(o.latencyMs >= 0)) throw new Error(`latencyMs must not be negative, not ${o.latencyMs}`);
    this.#frameMs = o.frameMs;
    this.#latencyMs = o.latencyMs;
    this.#tolerance = o.frameMs / 2;
    this.#concealFrames = o.concealFrames ?? CONCEAL_FRAMES;
    this.#lateRatio = o.lateRatio ?? LATE_RATIO;
    this.#lateWindowMs = o.lateWindowMs ?? LATE_WINDOW_MS;
    this.#lowerAfterMs = o.lowerAfterMs ?? LOWER_AFTER_MS;
    this.#lowerPatienceMs = o.lowerPatienceMs ?? LOWER_PATIENCE_MS;
    this.#maxAheadMs = o.maxAheadMs ?? MAX_AHEAD_MS;
  }

  get frameMs(): number {
    return this.#frameMs;
  }

  get extraDelayMs(): number {
    return this.#extra;
  }

  get started(): boolean {
    return this.#cursor !== undefined;
  }

  /** Frames waiting to be played. */
  get size(): number {
    return this.#frames.length;
  }

  /** The stream has ended (finish) and nothing is left to play. */
  get drained(): boolean {
    return this.#draining && this.#frames.length === 0;
  }

  /** When a frame of this slot is to be heard, at the current delay. */
  playoutOf(slot: number): number {
    return slot + this.#latencyMs + this.#extra;
  }

  /** Takes in a verified packet's frames; returns how many were kept. */
  push(packet: LivePacket, now: number): number {
    if (this.#seen.has(packet.seq)) {
      this.stats.duplicates += packet.frames.length;
      return 0;
    }
    this.#remember(packet.seq);
    let kept = 0;
    for (const [k, data] of packet.frames.entries()) {
      this.stats.received++;
      if (this.#keep(packet.captureTs + k * packet.frameMs, data, packet.seq, k, now)) kept++;
    }
    if (!this.started) this.#dropPast(now);
    return kept;
  }

  /**
   * The stream ends: after the frame ending at `endSlot` (the `last` packet), or, without
   * one (a stop), once nothing is left to play. Frames still to come before the end are taken.
   */
  finish(endSlot?: number): void {
    this.#draining = true;
    if (endSlot !== undefined) this.#end = Math.min(this.#end ?? Number.POSITIVE_INFINITY, endSlot);
    const end = this.#end;
    if (end === undefined) return;
    const before = this.#frames.length;
    this.#frames = this.#frames.filter((f) => f.slot < end - this.#tolerance);
    this.stats.skipped += before - this.#frames.length;
  }

  /**
   * Starts playing from the first frame not yet wholly past at `heardAt` (the controller
   * time the next sound written will be heard). False while there is none.
   */
  start(heardAt: number): boolean {
    if (this.started) return true;
    this.#dropPast(heardAt);
    const first = this.#frames[0];
    if (!first) return false;
    this.#cursor = first.slot;
    return true;
  }

  /** The next frame's worth to play, or 'end' once the stream has ended. */
  take(now: number): PlayoutFrame | 'end' {
    const cursor = this.#cursor;
    if (cursor === undefined) throw new Error('the jitter buffer has not started');
    this.#calmSince ??= now;
    this.#evaluateLate(now);
    const end = this.#end;
    let head = this.#frames[0];
    // Defensive: nothing behind the cursor should be here (push refuses it).
    while (head && head.slot < cursor - this.#tolerance) {
      this.#frames.shift();
      this.stats.late++;
      head = this.#frames[0];
    }
    if (this.#draining && ((end !== undefined && cursor >= end - this.#tolerance) || !head)) return 'end';
    if (this.#raise) {
      this.#raise = false;
      if (this.#extra + this.#frameMs <= this.#latencyMs) {
        // One frame's worth more before the frame at the cursor: everything after is heard a frame later.
        const playoutAt = this.playoutOf(cursor);
        this.#extra += this.#frameMs;
        this.#changed(now);
        this.#holdLateUntil = now + this.#lateWindowMs;
        this.stats.inserted++;
        return this.#missing(cursor, playoutAt, true);
      }
    }
    if (head && head.slot < cursor + this.#tolerance) {
      this.#frames.shift();
      this.#cursor = head.slot + this.#frameMs;
      this.#missingRun = 0;
      return {
        kind: 'audio',
        slot: head.slot,
        playoutAt: this.playoutOf(head.slot),
        data: head.data,
        seq: head.seq,
        frameIndex: head.frameIndex,
      };
    }
    this.#cursor = cursor + this.#frameMs;
    this.stats.missing++;
    return this.#missing(cursor, this.playoutOf(cursor), false);
  }

  /**
   * Offers the frame just taken to lower the delay: true when it is to be dropped (not
   * heard), which brings the delay down by a frame. A lowering is due after lowerAfterMs
   * without a late frame; it takes a quiet frame if one comes within lowerPatienceMs,
   * else the next one.
   */
  lowerNow(now: number, quiet: boolean): boolean {
    if (this.#extra <= 0 || this.#calmSince === undefined || now - this.#calmSince < this.#lowerAfterMs) {
      this.#lowerDueSince = undefined;
      return false;
    }
    this.#lowerDueSince ??= now;
    if (!quiet && now - this.#lowerDueSince < this.#lowerPatienceMs) return false;
    this.#extra -= this.#frameMs;
    this.#changed(now);
    this.stats.dropped++;
    return true;
  }

  #missing(slot: number, playoutAt: number, inserted: boolean): PlayoutFrame {
    this.#missingRun++;
    return { kind: this.#missingRun <= this.#concealFrames ? 'conceal' : 'silence', slot, playoutAt, inserted };
  }

  #keep(slot: number, data: Uint8Array, seq: number, frameIndex: number, now: number): boolean {
    if (this.#end !== undefined && slot >= this.#end - this.#tolerance) {
      this.stats.skipped++;
      return false;
    }
    if (slot - now > this.#maxAheadMs) {
      this.stats.tooEarly++;
      return false;
    }
    const cursor = this.#cursor;
    if (cursor !== undefined && (slot < cursor - this.#tolerance || this.playoutOf(slot) < now)) {
      this.stats.late++;
      if (now >= this.#holdLateUntil) this.#lateAt.push(now);
      this.#calmSince = now;
      this.#evaluateLate(now);
      return false;
    }
    const frames = this.#frames;
    let lo = 0;
    let hi = frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((frames[mid] as Buffered).slot < slot) lo = mid + 1;
      else hi = mid;
    }
    const near = (i: number) => {
      const f = frames[i];
      return f !== undefined && Math.abs(f.slot - slot) < this.#tolerance;
    };
    if (near(lo) || near(lo - 1)) {
      this.stats.duplicates++;
      return false;
    }
    frames.splice(lo, 0, { slot, data, seq, frameIndex });
    return true;
  }

  /** Before the start: frames wholly in the past by `at` will never be heard. */
  #dropPast(at: number): void {
    let n = 0;
    while (n < this.#frames.length && this.playoutOf((this.#frames[n] as Buffered).slot) + this.#frameMs <= at) n++;
    if (n === 0) return;
    this.#frames.splice(0, n);
    this.stats.skipped += n;
  }

  #evaluateLate(now: number): void {
    const since = now - this.#lateWindowMs;
    while (this.#lateAt.length > 0 && (this.#lateAt[0] as number) <= since) this.#lateAt.shift();
    const perWindow = this.#lateWindowMs / this.#frameMs;
    if (this.#lateAt.length > this.#lateRatio * perWindow) this.#raise = true;
  }

  #changed(now: number): void {
    this.#calmSince = now;
    this.#lowerDueSince = undefined;
    this.#lateAt = [];
  }

  #remember(seq: number): void {
    this.#seen.add(seq);
    if (this.#seen.size <= SEEN_SEQS) return;
    // Sets iterate in insertion order: the oldest go first.
    for (const old of this.#seen) {
      this.#seen.delete(old);
      if (this.#seen.size <= SEEN_SEQS / 2) break;
    }
  }
}
