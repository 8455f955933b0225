import type { FaultCode, LanguageCode, PlayableItem } from '@loa/protocols';
import type { AudioOutput, AudioSink, Clock } from '../hardware/seams.js';
import type { Renderer, RenderOutcome, RenderProgress } from '../playback/renderer.js';
import { type Amplifier, AmplifierError, faultOf } from './amplifier.js';
import { applyGain, floatToPcm16, gainOf } from './gain.js';
import { decodeOggOpusStream, looksLikeOggOpus, SAMPLE_RATE, UndecodableAudioError } from './opus-decoder.js';
import { Pacer } from './pacer.js';
import { chime, siren } from './tones.js';
import { ABORTED, untilAborted } from './until-aborted.js';

/** Sound is written in blocks of this length. */
export const BLOCK_MS = 100;
const BLOCK = (SAMPLE_RATE * BLOCK_MS) / 1000;
/** How far ahead of the speakers the renderer writes: enough to ride out a slow decode, little enough to stay exact. */
export const LEAD_MS = 300;

export interface AudioRendererOptions {
  sink: AudioSink;
  amplifier: Amplifier;
  clock: Clock;
  /** The content cache: a verified asset, or undefined when it is not there. */
  readAsset: (sha256: string) => Promise<Buffer | undefined>;
  /** The receiver's master volume 0..100 (device.volume), applied on top of the item's; read at every block. */
  masterVolume?: () => number;
  /** The fault an item failed with (audio_device_error, speaker_line_open, …), as it happens. */
  onFault?: (code: FaultCode, detail: string) => void;
}

/** What an item sounds, in order: its prelude, then every segment, `repeat` times. */
type Part =
  | { kind: 'prelude'; pcm?: Int16Array; sha256?: string }
  | { kind: 'segment'; sha256: string; repetition: number; language: LanguageCode };

class RenderFailure extends Error {
  constructor(
    readonly reason: string,
    readonly fault?: FaultCode,
  ) {
    super(reason);
  }
}

const short = (sha256: string) => sha256.slice(0, 12);
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Real sound for a receiver. For each item: every asset it needs is read first (a missing
 * one fails the item as `asset_missing` before anything is switched on); the amplifier is
 * acquired (relay on, warm-up, line check: a line fault fails the item as
 * `failed_to_sound` with that fault); then the prelude (the item's own `preludeSha256`, or
 * the synthesised chime or siren) and every segment in order, `repeat` times, are decoded
 * as they go and written at the item's volume times the master volume; finally the sink is
 * drained and the amplifier released (it powers off after its hold time).
 *
 * Writing is paced by the clock, never more than LEAD_MS ahead of what the speakers have
 * played, so progress (repetition, language) is reported when a segment starts to be
 * heard, and an abort stops the sound at once: the abort signal aborts the output (aplay
 * is killed) without waiting for the next block. A sink that fails fails the item with
 * `audio_device_error`. `playedMs` counts segment sound heard, not the prelude.
 */
export class AudioRenderer implements Renderer {
  constructor(private readonly o: AudioRendererOptions) {}

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    if (signal.aborted) return { result: 'aborted', playedMs: 0 };
    const parts = this.#parts(item);
    const files = new Map<string, Buffer>();
    let outcome: RenderOutcome;
    try {
      for (const [i, part] of parts.entries()) {
        if (!part.sha256 || files.has(part.sha256)) continue;
        if (part.kind === 'prelude') {
          // A prelude's file missing or damaged must never silence the item it announces:
          // the built-in tone (the same sound, from the same definition) plays instead.
          const file = await this.#read(part.sha256).catch(() => undefined);
          if (file) files.set(part.sha256, file);
          else parts[i] = { kind: 'prelude', pcm: item.prelude === 'siren' ? siren() : chime() };
          continue;
        }
        files.set(part.sha256, await this.#read(part.sha256));
      }
      outcome = await new ItemPlayback(this.o, parts, files, signal, onProgress).run(item.volume);
    } catch (error) {
      outcome = failedOutcome(error, 0);
    }
    if (outcome.result === 'failed' && outcome.fault) this.o.onFault?.(outcome.fault, outcome.reason);
    return outcome;
  }

  #parts(item: PlayableItem): Part[] {
    const parts: Part[] = [];
    if (item.prelude !== 'none')
      parts.push(
        item.preludeSha256
          ? { kind: 'prelude', sha256: item.preludeSha256 }
          : { kind: 'prelude', pcm: item.prelude === 'siren' ? siren() : chime() },
      );
    for (let repetition = 1; repetition <= item.repeat; repetition++)
      for (const segment of item.segments)
        parts.push({ kind: 'segment', sha256: segment.sha256, repetition, language: segment.language });
    return parts;
  }

  async #read(sha256: string): Promise<Buffer> {
    let file: Buffer | undefined;
    try {
      file = await this.o.readAsset(sha256);
    } catch (error) {
      throw new RenderFailure(`asset_unreadable ${short(sha256)}: ${message(error)}`);
    }
    if (!file) throw new RenderFailure(`asset_missing ${short(sha256)}`);
    if (!looksLikeOggOpus(file)) throw new RenderFailure(`asset_undecodable ${short(sha256)}: not Ogg Opus`);
    return file;
  }
}

/** One item being played: its output, its pacing and its abort. */
class ItemPlayback {
  readonly #pacer: Pacer;
  #output: AudioOutput | undefined;
  #preludeMs = 0;
  #segmentMs = 0;

  constructor(
    private readonly o: AudioRendererOptions,
    private readonly parts: Part[],
    private readonly files: Map<string, Buffer>,
    private readonly signal: AbortSignal,
    private readonly onProgress: ((progress: RenderProgress) => void) | undefined,
  ) {
    this.#pacer = new Pacer(o.clock);
  }

  async run(volume: number): Promise<RenderOutcome> {
    const { amplifier } = this.o;
    const signal = this.signal;
    // Decoding starts now, so the first sound is ready when the amplifier is.
    const pieces = new ReadAhead(this.#pieces());
    const onAbort = () => {
      this.#pacer.stop();
      void this.#output?.abort().catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let acquired = false;
    try {
      const acquiring = amplifier.acquire();
      const check = await untilAborted(acquiring, signal).catch((error: unknown) => {
        if (error instanceof AmplifierError) throw new RenderFailure(`failed_to_sound: ${error.message}`, error.fault);
        throw error;
      });
      if (check === ABORTED) {
        // The warm-up goes on; let go of the amplifier once it is done.
        acquiring.then(
          () => amplifier.release(),
          () => {},
        );
        return { result: 'aborted', playedMs: 0 };
      }
      acquired = true;
      const fault = faultOf(check);
      if (fault) throw new RenderFailure(`failed_to_sound: line check found ${fault}`, fault);

      const output = await this.#device(() => this.o.sink.open({ sampleRate: SAMPLE_RATE, channels: 1 }));
      this.#output = output;
      if (signal.aborted) return this.#aborted();

      const itemGain = gainOf(volume);
      const gain = () => itemGain * gainOf(this.o.masterVolume?.() ?? 100);
      let current = -1;
      for (let next = await pieces.next(); !next.done; next = await pieces.next()) {
        const { index, pcm } = next.value;
        const part = this.parts[index] as Part;
        if (index !== current) {
          current = index;
          if (part.kind === 'segment') {
            const progress = { repetition: part.repetition, language: part.language };
            this.#pacer.whenHeard(() => {
              if (!signal.aborted) this.onProgress?.(progress);
            });
          }
        }
        for (let at = 0; at < pcm.length; at += BLOCK) {
          await this.#pacer.untilLeadBelow(LEAD_MS);
          if (signal.aborted) return this.#aborted();
          const slice = pcm.subarray(at, Math.min(pcm.length, at + BLOCK));
          const block = slice instanceof Int16Array ? applyGain(slice, gain()) : floatToPcm16(slice, gain());
          await this.#device(() => output.write(block));
          const ms = (block.length / SAMPLE_RATE) * 1000;
          this.#pacer.wrote(ms);
          if (part.kind === 'prelude') this.#preludeMs += ms;
          else this.#segmentMs += ms;
        }
        if (signal.aborted) return this.#aborted();
      }
      await this.#device(() => output.drain());
      if (signal.aborted) return this.#aborted();
      this.#pacer.flush();
      return { result: 'finished', playedMs: Math.round(this.#segmentMs) };
    } catch (error) {
      if (signal.aborted) return this.#aborted();
      await this.#output?.abort().catch(() => {});
      return failedOutcome(error, this.#heardMs());
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#pacer.stop();
      await pieces.close();
      await this.#output?.close().catch(() => {});
      if (acquired) amplifier.release();
    }
  }

  /** Everything to be heard, decoded a piece (a few seconds) at a time; the index is the part's. */
  async *#pieces(): AsyncGenerator<{ index: number; pcm: Int16Array | Float32Array }> {
    for (const [index, part] of this.parts.entries()) {
      if (part.kind === 'prelude' && part.pcm) {
        yield { index, pcm: part.pcm };
        continue;
      }
      const sha256 = part.sha256 as string;
      try {
        for await (const pcm of decodeOggOpusStream(this.files.get(sha256) as Buffer)) yield { index, pcm };
      } catch (error) {
        if (error instanceof UndecodableAudioError)
          throw new RenderFailure(`asset_undecodable ${short(sha256)}: ${error.message}`);
        throw error;
      }
    }
  }

  async #device<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw new RenderFailure(`audio_device_error: ${message(error)}`, 'audio_device_error');
    }
  }

  #aborted(): RenderOutcome {
    return { result: 'aborted', playedMs: this.#heardMs() };
  }

  /** Segment sound heard so far: what the speakers have played, less the prelude. */
  #heardMs(): number {
    const heard = this.#pacer.heardMs();
    return Math.round(Math.max(0, Math.min(this.#segmentMs, heard - this.#preludeMs)));
  }
}

/** Whatever ended an item, as its failed outcome. */
function failedOutcome(error: unknown, playedMs: number): RenderOutcome {
  const failure = error instanceof RenderFailure ? error : new RenderFailure(`render_error: ${message(error)}`);
  return { result: 'failed', playedMs, reason: failure.reason, ...(failure.fault ? { fault: failure.fault } : {}) };
}

/** Pulls the next value of a generator as soon as the current one is taken (decode ahead). */
class ReadAhead<T> {
  #next: Promise<IteratorResult<T>>;

  constructor(private readonly source: AsyncGenerator<T>) {
    this.#next = this.#pull();
  }

  async next(): Promise<IteratorResult<T>> {
    const result = await this.#next;
    if (!result.done) this.#next = this.#pull();
    return result;
  }

  /** Ends the generator (after a pull in progress), so it frees its decoder. */
  async close(): Promise<void> {
    await this.source.return(undefined).catch(() => {});
  }

  #pull(): Promise<IteratorResult<T>> {
    const pulled = this.source.next();
    pulled.catch(() => {});
    return pulled;
  }
}
