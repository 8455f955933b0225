import type { Socket } from 'node:net';

/**
 * How a link between a receiver and the broker misbehaves. Every field is optional; an
 * absent field leaves the link as it is (or as an earlier rule made it).
 */
export interface LinkConditions {
  /** Added one-way delay in each direction, in ms. */
  latencyMs?: number;
  /**
   * Uniform random extra delay of 0..jitterMs per chunk. Byte order is kept, as TCP keeps
   * it: a chunk is never released before the previous one in the same direction.
   */
  jitterMs?: number;
  /** Token-bucket limit per connection and per direction, in bytes per second. */
  bandwidthBytesPerS?: number;
  /**
   * Random connection resets at this average rate (a Poisson process per connection).
   * This is how "drops" are modelled: dropping bytes inside a TCP stream would corrupt it
   * (the real TCP would retransmit them), so a lossy radio link shows up to the
   * application as stalls and resets, and that is what clients have to survive.
   */
  resetPerMinute?: number;
  /**
   * Keeps the sockets open but forwards nothing (data is discarded, both ways) until
   * lifted, as a dead radio link does: the client notices only through its keepalive.
   * When lifted, connections that were blackholed are closed, because whatever was
   * discarded may have been half a packet and the stream cannot be trusted any more;
   * clients reconnect cleanly.
   */
  blackhole?: boolean;
  /** Closes matching connections now and refuses new ones (right after their CONNECT is read) until lifted. */
  cut?: boolean;
}

const NUMERIC = ['latencyMs', 'jitterMs', 'bandwidthBytesPerS', 'resetPerMinute'] as const;

/** Throws a RangeError naming every bad field, so a typo in a scenario fails loudly. */
export function validateConditions(conditions: LinkConditions): void {
  const wrong: string[] = [];
  for (const field of NUMERIC) {
    const value = conditions[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) wrong.push(`${field} must be a number >= 0`);
  }
  if (conditions.bandwidthBytesPerS === 0) wrong.push('bandwidthBytesPerS must be > 0 (use blackhole to stop traffic)');
  for (const field of ['blackhole', 'cut'] as const) {
    const value = conditions[field];
    if (value !== undefined && typeof value !== 'boolean') wrong.push(`${field} must be a boolean`);
  }
  if (wrong.length > 0) throw new RangeError(`bad link conditions: ${wrong.join('; ')}`);
}

/** Later conditions override earlier ones field by field; absent fields override nothing. */
export function mergeConditions(into: LinkConditions, from: LinkConditions): LinkConditions {
  const defined = Object.entries(from).filter(([, value]) => value !== undefined);
  return { ...into, ...Object.fromEntries(defined) };
}

/** Bandwidth is applied in slices of this much time, so a large chunk trickles out instead of leaving in one burst. */
const SLICE_S = 0.02;
/** Queued bytes above which the source is paused (a slow link fills the sender's TCP window), and below which it resumes. */
const QUEUE_HIGH = 64 * 1024;
const QUEUE_LOW = 16 * 1024;

interface Queued {
  due: number;
  data: Buffer;
}

/**
 * One direction of a proxied connection: takes chunks read from `source` and writes them
 * to `destination` under the conditions in force when each chunk arrives (looked up per
 * chunk, so a new rule affects a running connection at once).
 *
 * Each chunk is given a release time: it is put on the link when the link is free (the
 * bandwidth limit serialises it: its last byte leaves `length / rate` later), then travels
 * `latency + random(0..jitter)`, and is never released before the chunk ahead of it. As
 * release times only grow, one timer for the head of the queue is enough.
 */
export class Lane {
  readonly #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** When the link has finished serialising what is queued (bandwidth). */
  #linkFreeAt = 0;
  /** Release time of the last queued chunk (order). */
  #lastDue = 0;
  #timer: NodeJS.Timeout | undefined;
  #ending = false;
  #closed = false;
  #waitingForDrain = false;
  #queueFull = false;

  constructor(
    private readonly source: Socket,
    private readonly destination: Socket,
    private readonly conditions: () => LinkConditions,
    private readonly counters: { forwarded(bytes: number): void; discarded(bytes: number): void },
  ) {
    destination.on('drain', () => {
      this.#waitingForDrain = false;
      this.#updateFlow();
    });
  }

  push(chunk: Buffer): void {
    if (this.#closed) return;
    const conditions = this.conditions();
    if (conditions.blackhole) {
      this.counters.discarded(chunk.length);
      return;
    }
    const latency = conditions.latencyMs ?? 0;
    const jitter = conditions.jitterMs ?? 0;
    const rate = conditions.bandwidthBytesPerS;
    if (!rate && latency === 0 && jitter === 0 && this.#queuedBytes === 0) {
      this.#write(chunk); // a healthy link with nothing in flight: no timer at all
      return;
    }
    const now = performance.now();
    const slice = rate ? Math.max(16, Math.floor(rate * SLICE_S)) : chunk.length;
    for (let offset = 0; offset < chunk.length; offset += slice) {
      const data = chunk.subarray(offset, offset + slice);
      const start = Math.max(now, this.#linkFreeAt);
      const sent = rate ? start + (data.length * 1000) / rate : start;
      this.#linkFreeAt = sent;
      const due = Math.max(sent + latency + Math.random() * jitter, this.#lastDue);
      this.#lastDue = due;
      this.#queue.push({ due, data });
    }
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes > QUEUE_HIGH) this.#queueFull = true;
    this.#updateFlow();
    this.#schedule();
  }

  /** The source has ended: end the destination once everything queued has been released. */
  end(): void {
    this.#ending = true;
    if (this.#queuedBytes === 0) this.#finish();
  }

  /** Drops whatever is queued; the lane does nothing more. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#head = 0;
    this.#queuedBytes = 0;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const next = this.#queue[this.#head];
    if (!next) return;
    // Rounded up: a timer may fire up to a millisecond early, and release() re-checks anyway.
    const wait = Math.max(0, Math.ceil(next.due - performance.now()));
    this.#timer = setTimeout(() => this.#release(), wait);
  }

  #release(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    const blackhole = this.conditions().blackhole === true; // applied after the chunk left: it dies in flight
    for (let next = this.#queue[this.#head]; next && next.due <= now; next = this.#queue[this.#head]) {
      this.#head += 1;
      this.#queuedBytes -= next.data.length;
      if (blackhole) this.counters.discarded(next.data.length);
      else this.#write(next.data);
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#queueFull && this.#queuedBytes < QUEUE_LOW) {
      this.#queueFull = false;
      this.#updateFlow();
    }
    if (this.#ending && this.#queuedBytes === 0) this.#finish();
    else this.#schedule();
  }

  #write(data: Buffer): void {
    if (!this.destination.writable) return;
    this.counters.forwarded(data.length);
    if (!this.destination.write(data)) {
      this.#waitingForDrain = true;
      this.#updateFlow();
    }
  }

  #finish(): void {
    if (this.destination.writable) this.destination.end();
  }

  /** Backpressure: the source reads only while the destination keeps up and the queue is short. */
  #updateFlow(): void {
    if (this.source.destroyed) return;
    if (this.#waitingForDrain || this.#queueFull) this.source.pause();
    else this.source.resume();
  }
}
