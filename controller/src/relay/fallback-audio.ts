import type { AssetStore } from '../assets/asset-store.js';
import { decodeOggOpusBytes } from '../audio/decoding/npm-decoders.js';
import { PIPELINE_RATE } from '../audio/decoding/resample.js';
import type { Database } from '../database/client.js';

/** The stored audio a relay airs during dead air. */
export interface FallbackChoice {
  contentId: string;
  language: string;
  sha256: string;
  durationMs: number;
}

/**
 * Which of the relay schedule's content variants airs during dead air: the first of
 * the schedule's languages, else of its first target area's (or receiver's village's),
 * that has audio; failing that any variant with audio. Undefined when the content has no
 * audio at all (text still waiting for synthesis): the relay then stays silent.
 */
export async function chooseFallback(db: Database, scheduleId: string): Promise<FallbackChoice | undefined> {
  const schedule = await db.schedule.findUnique({
    where: { id: scheduleId },
    include: {
      content: { include: { variants: { include: { asset: true }, orderBy: { language: 'asc' } } } },
      targets: { include: { area: true, receiver: { include: { village: true } } } },
    },
  });
  if (!schedule) return undefined;
  const target = schedule.targets.find((t) => t.area) ?? schedule.targets[0];
  const preferred = [...schedule.languages, ...(target?.area?.languages ?? target?.receiver?.village.languages ?? [])];
  const withAudio = schedule.content.variants.filter((v) => v.asset);
  const variant = preferred.map((l) => withAudio.find((v) => v.language === l)).find(Boolean) ?? withAudio[0];
  if (!variant?.asset) return undefined;
  return {
    contentId: schedule.contentId,
    language: variant.language,
    sha256: variant.asset.sha256,
    durationMs: variant.asset.durationMs,
  };
}

/** A stored asset's bytes (assets are Ogg Opus, at most a few MB an hour). */
export async function readAsset(assets: AssetStore, sha256: string): Promise<Buffer> {
  const stream = await assets.createReadStream(sha256);
  if (!stream) throw new Error(`the fallback asset ${sha256} is not in the asset store`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Relay audio is stamped this far ahead of the time it is pushed (stream and fallback
 * alike, so switching between them is seamless): nobody hears a relay against the real
 * station, and the margin lets three 20 ms frames fill each signed packet and reach the
 * receivers before their play time even when ffmpeg's output arrives unevenly.
 */
export const RELAY_LEAD_MS = 60;

/** PCM kept decoded ahead of the pacer: enough to ride out a slow decode, little memory. */
const AHEAD_SAMPLES = 2 * PIPELINE_RATE;

/**
 * An Ogg Opus file as an endless loop of 48 kHz mono PCM, decoded a slice at a time a
 * little ahead of use (an hour-long fallback is never held decoded), so take() can answer
 * at once from a timer.
 */
export class LoopingPcm {
  readonly #bytes: Uint8Array;
  readonly #decode: (bytes: Uint8Array) => AsyncGenerator<Float32Array>;
  readonly #onError: (error: Error) => void;
  #generator: AsyncGenerator<Float32Array>;
  #queue: Float32Array[] = [];
  #queued = 0;
  #filling = false;
  #passSamples = 0;
  #closed = false;
  #failed = false;
  /** Samples of silence handed out because decoding had not caught up. */
  underrun = 0;
  /** Times the file ran out and started again. */
  loops = 0;

  constructor(
    bytes: Uint8Array,
    options: { decode?: (bytes: Uint8Array) => AsyncGenerator<Float32Array>; onError?: (error: Error) => void } = {},
  ) {
    this.#bytes = bytes;
    this.#decode = options.decode ?? decodeOggOpusBytes;
    this.#onError = options.onError ?? (() => {});
    this.#generator = this.#decode(bytes);
  }

  /** Decodes the first seconds; rejects when the file holds no audio or cannot be decoded. */
  async prime(): Promise<void> {
    await this.#fill();
  }

  /** Exactly `count` samples: the file's next ones, looping; silence where decoding lags. */
  take(count: number): Float32Array {
    const out = new Float32Array(count);
    let filled = 0;
    while (filled < count && this.#queue.length > 0) {
      const head = this.#queue[0] as Float32Array;
      const n = Math.min(head.length, count - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      this.#queued -= n;
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
    this.underrun += count - filled;
    if (this.#queued < AHEAD_SAMPLES && !this.#failed && !this.#filling) this.#fill().catch(() => {});
    return out;
  }

  close(): void {
    this.#closed = true;
    // Frees the wasm decoder (its finally block), once any pending slice is done.
    void this.#generator.return(undefined).catch(() => {});
  }

  async #fill(): Promise<void> {
    this.#filling = true;
    try {
      while (!this.#closed && this.#queued < AHEAD_SAMPLES) {
        const next = await this.#generator.next();
        if (next.done) {
          if (this.#passSamples === 0) throw new Error('the fallback audio holds no samples');
          this.#generator = this.#decode(this.#bytes);
          this.#passSamples = 0;
          this.loops++;
          continue;
        }
        if (next.value.length === 0) continue;
        this.#queue.push(next.value);
        this.#queued += next.value.length;
        this.#passSamples += next.value.length;
      }
    } catch (error) {
      this.#failed = true;
      this.#onError(error as Error);
      throw error;
    } finally {
      this.#filling = false;
    }
  }
}

/**
 * Pushes a LoopingPcm on air in real time: every tick, the samples up to a little
 * ahead of now (in chunks of at most 100 ms), stamped on one continuous timeline that
 * begins where the stream's audio ended.
 */
export class FallbackPlayer {
  readonly #pcm: LoopingPcm;
  readonly #push: (samples: Float32Array, captureTs: number) => void;
  readonly #now: () => number;
  readonly #tickMs: number;
  readonly #leadMs: number;
  #timer: NodeJS.Timeout | undefined;
  #fromTs = 0;
  #samples = 0;

  constructor(
    pcm: LoopingPcm,
    push: (samples: Float32Array, captureTs: number) => void,
    options: { now?: () => number; tickMs?: number; leadMs?: number } = {},
  ) {
    this.#pcm = pcm;
    this.#push = push;
    this.#now = options.now ?? Date.now;
    this.#tickMs = options.tickMs ?? 40;
    this.#leadMs = options.leadMs ?? RELAY_LEAD_MS;
  }

  /** Where the next sample falls on the timeline (controller ms). */
  get nextTs(): number {
    return this.#fromTs + (this.#samples * 1000) / PIPELINE_RATE;
  }

  start(fromTs: number): void {
    this.#fromTs = fromTs;
    this.#samples = 0;
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
  }

  /** Stops pushing; answers where the timeline stands, for the stream to follow on. */
  stop(): number {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pcm.close();
    return this.nextTs;
  }

  #tick(): void {
    const now = this.#now();
    // Far behind (the event loop stalled): that audio could only arrive late; skip ahead.
    if (this.nextTs < now - 200) {
      this.#fromTs = now;
      this.#samples = 0;
    }
    const maxChunk = PIPELINE_RATE / 10;
    for (;;) {
      const due = Math.floor(((now + this.#leadMs - this.nextTs) * PIPELINE_RATE) / 1000);
      if (due < PIPELINE_RATE / 100) return; // less than 10 ms due: wait for the next tick
      const count = Math.min(due, maxChunk);
      const at = this.nextTs;
      this.#samples += count;
      this.#push(this.#pcm.take(count), at);
    }
  }
}
