import type { AudioOutput, AudioSink, Clock, PcmFormat, TimerHandle } from '@loa/edge-agent';

/** How much a virtual sound card holds before a write waits (a real card's buffer; the live renderer keeps 100 ms). */
export const SOUND_CARD_BUFFER_MS = 500;

/**
 * A virtual sound card for the live path. It consumes PCM at its clock's rate, as a real
 * card does: a write queues behind what is still playing, or starts at once after an
 * underrun (the silence in between is what the speakers gave). It tells, for every write,
 * the true time its first sample is heard, and, when asked to capture, keeps exactly what
 * was heard: an abort drops what was queued but not yet played.
 *
 * The card plays on the receiver's crystal (its monotonic clock); true times come from
 * `trueNow` at the moment of each write (the drift over a 100 ms lead is microseconds).
 */
export class VirtualSoundCard implements AudioSink {
  /** The output open now (one item sounds at a time): where the frame hook looks. */
  current: VirtualSoundOutput | undefined;
  /** The output opened last (open or closed): the recording of the last session played. */
  lastOpened: VirtualSoundOutput | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly trueNow: () => number = Date.now,
    private readonly capture = false,
  ) {}

  async open(format: PcmFormat): Promise<VirtualSoundOutput> {
    const output = new VirtualSoundOutput(this.clock, this.trueNow, format, this.capture, () => {
      if (this.current === output) this.current = undefined;
    });
    this.current = output;
    this.lastOpened = output;
    return output;
  }
}

export class VirtualSoundOutput implements AudioOutput {
  /** True time the first sample was heard; undefined before the first write. */
  startedAt: number | undefined;
  /** True time the first sample of the last write is heard. */
  lastWriteHeardAt: number | undefined;
  /** Samples in the last write. */
  lastWriteSamples = 0;
  /** Underruns: writes that found the card run dry after it had started: when (true time) and how long the silence. */
  readonly underruns: Array<{ at: number; ms: number }> = [];
  readonly #samplesPerMs: number;
  /** When what was written has played out, on the monotonic clock. */
  #endsAt: number | undefined;
  /** Monotonic time of the first sample. */
  #startedMono = 0;
  readonly #chunks: Int16Array[] = [];
  /** Samples in #chunks (silence of underruns included). */
  #captured = 0;
  #closed = false;
  readonly #waiting = new Set<{ timer: TimerHandle; resolve: () => void }>();

  constructor(
    private readonly clock: Clock,
    private readonly trueNow: () => number,
    format: PcmFormat,
    private readonly capture: boolean,
    private readonly onClose: () => void,
  ) {
    if (format.channels !== 1) throw new Error(`the virtual sound card plays mono, not ${format.channels} channels`);
    this.#samplesPerMs = format.sampleRate / 1000;
  }

  async write(pcm: Int16Array): Promise<void> {
    if (this.#closed) throw new Error('write on a closed virtual sound output');
    if (pcm.length === 0) return;
    const now = this.clock.monotonic();
    const trueNow = this.trueNow();
    const endsAt = this.#endsAt;
    let startsAt: number;
    if (endsAt === undefined) {
      startsAt = now;
      this.#startedMono = now;
      this.startedAt = trueNow;
    } else if (endsAt < now) {
      // Ran dry: the speakers were silent from endsAt until now.
      startsAt = now;
      this.underruns.push({ at: trueNow - (now - endsAt), ms: now - endsAt });
      if (this.capture) this.#push(new Int16Array(Math.round((now - endsAt) * this.#samplesPerMs)));
    } else startsAt = endsAt;
    this.lastWriteHeardAt = trueNow + (startsAt - now);
    this.lastWriteSamples = pcm.length;
    this.#endsAt = startsAt + pcm.length / this.#samplesPerMs;
    // A copy: the writer may reuse its buffer.
    if (this.capture) this.#push(pcm.slice());
    const over = this.#endsAt - now - SOUND_CARD_BUFFER_MS;
    if (over > 0) await this.#sleep(over);
  }

  drain(): Promise<void> {
    const left = (this.#endsAt ?? 0) - this.clock.monotonic();
    return left > 0 ? this.#sleep(left) : Promise.resolve();
  }

  async abort(): Promise<void> {
    const now = this.clock.monotonic();
    if (this.#endsAt !== undefined && this.#endsAt > now) {
      // What was queued but not yet played is never heard.
      if (this.capture) this.#truncate(Math.max(0, Math.round((now - this.#startedMono) * this.#samplesPerMs)));
      this.#endsAt = now;
    }
    this.#settle();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#settle();
    this.onClose();
  }

  /** What the speakers played (with the silence of underruns), from the first sample; empty unless capturing. */
  heard(): Int16Array {
    const out = new Int16Array(this.#captured);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  #push(chunk: Int16Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#captured += chunk.length;
  }

  #truncate(samples: number): void {
    while (this.#captured > samples) {
      const last = this.#chunks.pop() as Int16Array;
      this.#captured -= last.length;
      const keep = samples - this.#captured;
      if (keep > 0) this.#push(last.subarray(0, keep));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const w = {
        timer: this.clock.setTimeout(() => {
          this.#waiting.delete(w);
          resolve();
        }, ms),
        resolve,
      };
      this.#waiting.add(w);
    });
  }

  #settle(): void {
    for (const w of this.#waiting) {
      this.clock.clearTimeout(w.timer);
      w.resolve();
    }
    this.#waiting.clear();
  }
}
