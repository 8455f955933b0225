import { crc32 } from 'node:zlib';
import type { ReceiverEvent } from '@loa/protocols';
import type { Storage } from '../hardware/seams.js';

type EventType = ReceiverEvent['type'];

/**
 * What goes first when the outbox is full: cache progress, then command acknowledgements
 * (stale after a long outage), then faults; proof of play (the commune's record of what
 * was aired) last. Within a type the oldest goes first.
 */
export const DROP_ORDER: readonly EventType[] = ['cache', 'ack', 'fault', 'play'];

export interface OutboxOptions {
  /** Most reports held (default 10 000, a week offline with room to spare). */
  maxEntries?: number;
  /** Most bytes of reports held, as stored (default 8 MiB). */
  maxBytes?: number;
  /** A segment file is closed and a new one started past this size (default 64 KiB). */
  segmentBytes?: number;
  /** More closed segments smaller than half a segment than this are compacted into one (default 32). */
  maxSegments?: number;
  /** Storage trouble the outbox worked around (corrupt records, failed clean-up); the agent raises `storage_error`. */
  onProblem?: (problem: string) => void;
}

export interface OutboxStats {
  /** Reports dropped to stay within the bounds, since open. */
  dropped: number;
  droppedByType: Record<EventType, number>;
  /** Unreadable records skipped when opening (a torn last write, or corruption). */
  discarded: number;
  compactions: number;
}

interface Entry {
  id: string;
  seq: number;
  type: EventType;
  /** The event, encoded. */
  json: string;
  /** Size of its record in the segment. */
  bytes: number;
  /** The segment holding its record. */
  seg: number;
}

interface Segment {
  n: number;
  /** Size of the log file. */
  bytes: number;
  live: number;
  liveBytes: number;
}

interface Waiting {
  id: string;
  type: EventType;
  json: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const DIR = 'outbox';
const FILE = /^(\d{10})\.(log|ack)$/;
const logName = (n: number) => `${DIR}/${String(n).padStart(10, '0')}.log`;
const ackName = (n: number) => `${DIR}/${String(n).padStart(10, '0')}.ack`;

/**
 * The durable outbox of reports waiting for the controller's receipt.
 *
 * Layout: append-only segment files `outbox/<n>.log`, one line per report, each
 * `<crc32> {"s":<seq>,"e":<event>}`, and beside each segment `outbox/<n>.ack` listing
 * the eventIds of that segment confirmed (or dropped) since. Why this and not one file
 * per report: adding a report is one append and one fsync, where an atomic file costs a
 * temp file, two fsyncs and a rename, and a 4 KiB block for a 300-byte report (a week
 * offline is thousands of reports); opening reads a few files instead of thousands.
 *
 * Power cuts: each record is framed by newlines and carries a CRC (see `frame`), so a
 * torn or garbled record is recognised and skipped without harming its neighbours; and
 * an outbox only ever appends to a segment it created since opening. Every report that
 * `add` resolved for is in a log; a lost tombstone only makes a report come back and be
 * sent again, which the controller ignores by eventId and receipts again.
 *
 * Space: a segment is closed past `segmentBytes` and removed (log, then its acks) once
 * none of its reports is pending. Closed segments holding more dead than live bytes, or
 * too many small ones (a receiver rebooting often), are compacted: their pending reports
 * are rewritten atomically into one new segment before the old files are removed.
 *
 * Bounds: past `maxEntries` or `maxBytes`, reports are dropped in DROP_ORDER, oldest
 * first, and counted in `stats`.
 *
 * All changes are serialised; adds that arrive while a write is in progress are written
 * together (one append, one fsync). `open` only reads (`edge-agent status` opens the
 * outbox of a running agent); clean-up happens on the first change.
 */
export class Outbox {
  readonly stats: OutboxStats = {
    dropped: 0,
    droppedByType: { cache: 0, ack: 0, fault: 0, play: 0 },
    discarded: 0,
    compactions: 0,
  };
  /** Pending reports, oldest (lowest seq) first. */
  readonly #entries = new Map<string, Entry>();
  readonly #byType = new Map<EventType, Map<string, Entry>>(DROP_ORDER.map((t) => [t, new Map()]));
  readonly #segments = new Map<number, Segment>();
  readonly #inFlight = new Map<string, Promise<void>>();
  #batch: Waiting[] = [];
  #lock: Promise<unknown> = Promise.resolve();
  #current: number;
  #nextSegment: number;
  #nextSeq: number;
  #liveBytes = 0;
  #needsCompaction = false;
  #orphans: string[] = [];
  readonly #o: Required<Omit<OutboxOptions, 'onProblem'>> & Pick<OutboxOptions, 'onProblem'>;

  private constructor(
    private readonly storage: Storage,
    options: OutboxOptions,
    first: { segment: number; seq: number },
  ) {
    this.#o = {
      maxEntries: options.maxEntries ?? 10_000,
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      segmentBytes: options.segmentBytes ?? 64 * 1024,
      maxSegments: options.maxSegments ?? 32,
      onProblem: options.onProblem,
    };
    this.#current = first.segment;
    this.#nextSegment = first.segment + 1;
    this.#nextSeq = first.seq;
  }

  /** Reads the outbox; `options` may be just the most entries (the old signature). */
  static async open(storage: Storage, options: number | OutboxOptions = {}): Promise<Outbox> {
    const o = typeof options === 'number' ? { maxEntries: options } : options;
    const logs: number[] = [];
    const acks: number[] = [];
    for (const name of await storage.list(DIR)) {
      const match = FILE.exec(name);
      if (match) (match[2] === 'log' ? logs : acks).push(Number(match[1]));
    }
    logs.sort((a, b) => a - b);
    const problems: string[] = [];
    let discarded = 0;

    const confirmed = new Map<number, Set<string>>();
    for (const n of acks) {
      if (!logs.includes(n)) continue;
      // A torn tombstone is skipped: that report comes back and is sent again, harmless.
      confirmed.set(n, new Set(readRecords(await storage.read(ackName(n))).records.map((r) => r.payload)));
    }

    const found = new Map<string, Entry>();
    const decided = new Set<string>();
    const segments = new Map<number, Segment>();
    let duplicates = false;
    let maxSeq = 0;
    // Newest segment first: a report in two segments (a compaction cut short, before the
    // old segments were removed) is decided by its newer copy and its acknowledgements.
    for (const n of [...logs].reverse()) {
      const raw = await storage.read(logName(n));
      const { records, bad, badTail } = readRecords(raw);
      discarded += bad;
      // A torn last record is the write a power cut interrupted, which nobody was told was done.
      if (bad > (badTail ? 1 : 0)) problems.push(`${logName(n)}: ${bad - (badTail ? 1 : 0)} corrupt record(s) skipped`);
      segments.set(n, { n, bytes: raw?.length ?? 0, live: 0, liveBytes: 0 });
      for (const { payload, bytes } of records) {
        const entry = parseRecord(payload, bytes, n);
        if (!entry) {
          discarded++;
          problems.push(`${logName(n)}: a record that is not a report was skipped`);
          continue;
        }
        maxSeq = Math.max(maxSeq, entry.seq);
        if (decided.has(entry.id)) {
          duplicates = true;
          continue;
        }
        decided.add(entry.id);
        if (!confirmed.get(n)?.has(entry.id)) found.set(entry.id, entry);
      }
    }

    const last = Math.max(0, ...logs, ...acks);
    const outbox = new Outbox(storage, o, { segment: last + 1, seq: maxSeq + 1 });
    outbox.stats.discarded = discarded;
    outbox.#needsCompaction = duplicates;
    outbox.#orphans = acks.filter((n) => !logs.includes(n)).map(ackName);
    for (const [n, segment] of segments) outbox.#segments.set(n, segment);
    for (const entry of [...found.values()].sort((a, b) => a.seq - b.seq)) outbox.#insert(entry);
    if (problems.length) outbox.#problem(`outbox: ${problems.join('; ')}`);
    return outbox;
  }

  /** Reports held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of reports held. */
  get bytes(): number {
    return this.#liveBytes;
  }

  has(eventId: string): boolean {
    return this.#entries.has(eventId);
  }

  /**
   * Keeps a report until the controller confirms it; resolves once it is durable (and
   * rejects if it could not be stored). A report already held is kept once.
   */
  add(event: ReceiverEvent): Promise<void> {
    const { eventId: id, type } = event;
    if (typeof id !== 'string' || !DROP_ORDER.includes(type))
      return Promise.reject(new TypeError('outbox: not a receiver event'));
    if (this.#entries.has(id)) return Promise.resolve();
    const inFlight = this.#inFlight.get(id);
    if (inFlight) return inFlight;
    const done = new Promise<void>((resolve, reject) => {
      this.#batch.push({ id, type, json: JSON.stringify(event), resolve, reject });
    });
    this.#inFlight.set(id, done);
    if (this.#batch.length === 1) void this.#exclusive(() => this.#writeBatch());
    return done;
  }

  /** The oldest reports not yet confirmed, oldest first. */
  async pending(limit = 100): Promise<ReceiverEvent[]> {
    const out: ReceiverEvent[] = [];
    for (const entry of this.#entries.values()) {
      if (out.length >= limit) break;
      out.push(JSON.parse(entry.json) as ReceiverEvent);
    }
    return out;
  }

  /**
   * Forgets the reports the controller has stored; returns how many were held. Does not
   * reject: if the tombstones cannot be written, the reports are forgotten anyway and
   * may come back after a restart (and be receipted again); the trouble goes to onProblem.
   */
  confirm(eventIds: readonly string[]): Promise<number> {
    return this.#exclusive(async () => {
      const removed: Entry[] = [];
      for (const id of new Set(eventIds)) {
        const entry = this.#entries.get(id);
        if (entry) removed.push(this.#forget(entry));
      }
      await this.#tombstone(removed);
      return removed.length;
    });
  }

  /** Resolves when every change asked for so far has been made. */
  async idle(): Promise<void> {
    while (true) {
      const lock = this.#lock;
      await lock.catch(() => {});
      if (lock === this.#lock) return;
    }
  }

  /** Runs a change after the ones before it, then the clean-up it may call for. */
  #exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(async () => {
      const result = await change();
      await this.#maintain().catch((error: unknown) => this.#problem(`outbox clean-up failed: ${messageOf(error)}`));
      return result;
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    try {
      await this.#write(batch);
    } catch (error) {
      // Unexpected: settle every add rather than leave callers waiting (settled ones stay as they are).
      for (const w of batch) {
        this.#inFlight.delete(w.id);
        w.reject(error);
      }
    }
  }

  async #write(batch: Waiting[]): Promise<void> {
    let segment = this.#segments.get(this.#current);
    if (segment && segment.bytes >= this.#o.segmentBytes) {
      this.#current = this.#nextSegment++;
      segment = undefined;
    }
    const entries: Entry[] = [];
    let data = '';
    for (const w of batch) {
      const seq = this.#nextSeq++;
      const line = frame(`{"s":${seq},"e":${w.json}}`);
      data += line;
      entries.push({ id: w.id, seq, type: w.type, json: w.json, bytes: Buffer.byteLength(line), seg: this.#current });
    }
    const buffer = Buffer.from(data);
    try {
      await this.storage.append(logName(this.#current), buffer);
    } catch (error) {
      // Part of the batch may be in the file. Keep the file known (it is removed as a
      // dead segment) and start a new one, so nothing durable ever follows a torn record.
      const size = await this.storage.size(logName(this.#current)).catch(() => undefined);
      if (size !== undefined) {
        const known = segment ?? { n: this.#current, bytes: 0, live: 0, liveBytes: 0 };
        known.bytes = size;
        this.#segments.set(this.#current, known);
      }
      this.#current = this.#nextSegment++;
      for (const w of batch) {
        this.#inFlight.delete(w.id);
        w.reject(error);
      }
      return;
    }
    if (!segment) {
      segment = { n: this.#current, bytes: 0, live: 0, liveBytes: 0 };
      this.#segments.set(this.#current, segment);
    }
    segment.bytes += buffer.length;
    for (const entry of entries) this.#insert(entry);
    const dropped = this.#overflow();
    for (const w of batch) {
      this.#inFlight.delete(w.id);
      w.resolve();
    }
    await this.#tombstone(dropped);
  }

  /** Takes reports out, in drop order, until the outbox is within its bounds. */
  #overflow(): Entry[] {
    const dropped: Entry[] = [];
    while (this.#entries.size > this.#o.maxEntries || this.#liveBytes > this.#o.maxBytes) {
      const type = DROP_ORDER.find((t) => (this.#byType.get(t)?.size ?? 0) > 0);
      const victim = type && this.#byType.get(type)?.values().next().value;
      if (!victim) break;
      dropped.push(this.#forget(victim));
      this.stats.dropped++;
      this.stats.droppedByType[victim.type]++;
    }
    return dropped;
  }

  /** Records durably that these reports are gone (confirmed or dropped). */
  async #tombstone(entries: Entry[]): Promise<void> {
    const bySegment = new Map<number, string>();
    for (const e of entries) bySegment.set(e.seg, (bySegment.get(e.seg) ?? '') + frame(e.id));
    for (const [n, lines] of bySegment) {
      // A closed segment with nothing pending is removed instead (see #maintain).
      if (n !== this.#current && (this.#segments.get(n)?.live ?? 0) === 0) continue;
      await this.storage
        .append(ackName(n), Buffer.from(lines))
        .catch((error: unknown) => this.#problem(`outbox: could not record receipts: ${messageOf(error)}`));
    }
  }

  /** Removes what is no longer needed and compacts when that pays. */
  async #maintain(): Promise<void> {
    for (const orphan of this.#orphans.splice(0)) await this.storage.remove(orphan);
    const current = this.#segments.get(this.#current);
    if (current && current.live === 0 && current.bytes >= this.#o.segmentBytes) this.#current = this.#nextSegment++;
    for (const segment of [...this.#segments.values()]) {
      if (segment.live > 0 || segment.n === this.#current) continue;
      await this.#removeSegment(segment.n);
    }
    const closed = [...this.#segments.values()].filter((s) => s.n !== this.#current);
    const dead = closed.reduce((sum, s) => sum + s.bytes - s.liveBytes, 0);
    const live = closed.reduce((sum, s) => sum + s.liveBytes, 0);
    const small = closed.filter((s) => s.bytes < this.#o.segmentBytes / 2);
    if (closed.length === 0) this.#needsCompaction = false;
    else if (this.#needsCompaction || dead > Math.max(live, this.#o.segmentBytes)) await this.#compact(closed);
    // Full segments of pending reports (a long outage) are left alone; the small ones a
    // receiver that reboots often leaves behind are merged.
    else if (small.length > this.#o.maxSegments) await this.#compact(small);
  }

  /** Rewrites the pending reports of the closed segments into one new segment, then removes those. */
  async #compact(closed: Segment[]): Promise<void> {
    const from = new Set(closed.map((s) => s.n));
    const moving = [...this.#entries.values()].filter((e) => from.has(e.seg));
    if (moving.length > 0) {
      const n = this.#nextSegment++;
      const data = Buffer.from(moving.map((e) => frame(`{"s":${e.seq},"e":${e.json}}`)).join(''));
      await this.storage.writeAtomic(logName(n), data);
      // The copy is durable: from here the old segments hold nothing that is needed.
      for (const e of moving) e.seg = n;
      const liveBytes = moving.reduce((sum, e) => sum + e.bytes, 0);
      this.#segments.set(n, { n, bytes: data.length, live: moving.length, liveBytes });
      for (const s of closed) {
        s.live = 0;
        s.liveBytes = 0;
      }
    }
    this.#needsCompaction = false;
    this.stats.compactions++;
    for (const s of closed) await this.#removeSegment(s.n);
  }

  async #removeSegment(n: number): Promise<void> {
    // The log first: acknowledgements without their log are harmless (removed at the next
    // open), a log without its acknowledgements would bring confirmed reports back.
    await this.storage.remove(logName(n));
    await this.storage.remove(ackName(n));
    this.#segments.delete(n);
  }

  #insert(entry: Entry): void {
    this.#entries.set(entry.id, entry);
    this.#byType.get(entry.type)?.set(entry.id, entry);
    this.#liveBytes += entry.bytes;
    const segment = this.#segments.get(entry.seg);
    if (segment) {
      segment.live++;
      segment.liveBytes += entry.bytes;
    }
  }

  #forget(entry: Entry): Entry {
    this.#entries.delete(entry.id);
    this.#byType.get(entry.type)?.delete(entry.id);
    this.#liveBytes -= entry.bytes;
    const segment = this.#segments.get(entry.seg);
    if (segment) {
      segment.live--;
      segment.liveBytes -= entry.bytes;
    }
    return entry;
  }

  #problem(problem: string): void {
    try {
      this.#o.onProblem?.(problem);
    } catch {
      // Reporting must not break the outbox.
    }
  }
}

/**
 * One record on a line of its own: a newline before it, so that a record cut short by a
 * power cut cannot swallow the next one, and one after it, so that garbage a power cut
 * leaves past the end of the file cannot spoil the last good record. Then its CRC.
 */
function frame(payload: string): string {
  return `\n${crc32(payload).toString(16).padStart(8, '0')} ${payload}\n`;
}

/** The intact records of a segment or acknowledgement file; how many were not; whether the last one was not. */
function readRecords(raw: Buffer | undefined): {
  records: { payload: string; bytes: number }[];
  bad: number;
  badTail: boolean;
} {
  const records: { payload: string; bytes: number }[] = [];
  let bad = 0;
  let badTail = false;
  for (const line of (raw ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
    if (line === '') continue;
    const payload = line.slice(9);
    const intact = line[8] === ' ' && /^[0-9a-f]{8}$/.test(line.slice(0, 8));
    if (intact && Number.parseInt(line.slice(0, 8), 16) === crc32(payload)) {
      records.push({ payload, bytes: Buffer.byteLength(line) + 2 });
      badTail = false;
    } else {
      bad++;
      badTail = true;
    }
  }
  return { records, bad, badTail };
}

function parseRecord(payload: string, bytes: number, seg: number): Entry | undefined {
  try {
    const record = JSON.parse(payload) as { s?: unknown; e?: { eventId?: unknown; type?: unknown } };
    const { s, e } = record;
    if (!Number.isSafeInteger(s) || typeof e !== 'object' || e === null) return undefined;
    if (typeof e.eventId !== 'string' || !DROP_ORDER.includes(e.type as EventType)) return undefined;
    return { id: e.eventId, seq: s as number, type: e.type as EventType, json: JSON.stringify(e), bytes, seg };
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
