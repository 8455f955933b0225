import type { FaultCode, PlayableItem } from '@loa/protocols';
import type { AudioOutput, AudioSink, Clock } from '../hardware/seams.js';
import type { Renderer, RenderOutcome, RenderProgress } from '../playback/renderer.js';
import type { Amplifier } from './amplifier.js';
import { applyGain, gainOf } from './gain.js';
import { decodeOggOpus, SAMPLE_RATE } from './opus-decoder.js';
import { chime, siren } from './tones.js';

const CHUNK = SAMPLE_RATE / 10; // 100 ms
/** How far ahead of the speakers the renderer may write (keeps abort and progress prompt). */
const LEAD_MS = 300;

interface Pacer {
  beforeWrite(): Promise<void>;
  whenHeard(callback: () => void): void;
  wrote(ms: number): void;
}

class RenderFailure extends Error {
  constructor(
    readonly reason: string,
    readonly fault?: FaultCode,
  ) {
    super(reason);
  }
}

export interface AudioRendererOptions {
  sink: AudioSink;
  amplifier: Amplifier;
  clock: Clock;
  readAsset: (sha256: string) => Promise<Buffer | undefined>;
  /** Master volume 0..100 (device.volume), applied on top of the item's. */
  masterVolume: () => number;
  onFault?: (code: FaultCode, detail: string) => void;
}

/**
 * Real sound: decodes the item's Opus assets, powers the amplifier, plays the prelude and
 * each segment in order `repeat` times at the item's volume, paced by the clock so that
 * progress reports and aborts happen within about 100 ms of the sound.
 */
export class AudioRenderer implements Renderer {
  constructor(private readonly o: AudioRendererOptions) {}

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    let output: AudioOutput | undefined;
    let acquired = false;
    let playedMs = 0;
    try {
      const segments = await Promise.all(item.segments.map(async (s) => ({ ...s, pcm: await this.#decode(s.sha256) })));
      const prelude =
        item.prelude === 'none'
          ? undefined
          : item.preludeSha256
            ? await this.#decode(item.preludeSha256)
            : item.prelude === 'siren'
              ? siren()
              : chime();
      await this.o.amplifier.acquire();
      acquired = true;
      if (signal.aborted) return { result: 'aborted', playedMs: 0 };
      output = await this.o.sink.open({ sampleRate: SAMPLE_RATE, channels: 1 }).catch((error: unknown) => {
        throw new RenderFailure(`audio device: ${String((error as Error).message ?? error)}`, 'audio_device_error');
      });
      const gain = gainOf(item.volume) * gainOf(this.o.masterVolume());
      const pacer = this.#pacer();
      if (prelude) await this.#write(output, applyGain(prelude, gain), signal, pacer);
      for (let repetition = 1; repetition <= item.repeat; repetition++) {
        for (const segment of segments) {
          if (signal.aborted) break;
          // Reported when the segment starts to sound, not when it is written ahead.
          pacer.whenHeard(() => {
            if (!signal.aborted) onProgress?.({ repetition, language: segment.language });
          });
          playedMs += await this.#write(output, applyGain(segment.pcm, gain), signal, pacer);
        }
      }
      if (signal.aborted) {
        await output.abort();
        return { result: 'aborted', playedMs };
      }
      await output.drain().catch((error: unknown) => {
        throw new RenderFailure(`audio device: ${String((error as Error).message ?? error)}`, 'audio_device_error');
      });
      return { result: 'finished', playedMs };
    } catch (error) {
      await output?.abort().catch(() => {});
      const failure =
        error instanceof RenderFailure
          ? error
          : new RenderFailure(`audio device: ${String((error as Error).message ?? error)}`, 'audio_device_error');
      if (failure.fault) this.o.onFault?.(failure.fault, failure.reason);
      return {
        result: 'failed',
        playedMs,
        reason: failure.reason,
        ...(failure.fault ? { fault: failure.fault } : {}),
      };
    } finally {
      await output?.close().catch(() => {});
      if (acquired) this.o.amplifier.release();
    }
  }

  async #decode(sha256: string): Promise<Int16Array> {
    const file = await this.o.readAsset(sha256);
    if (!file) throw new RenderFailure(`asset_missing ${sha256.slice(0, 12)}`);
    try {
      return await decodeOggOpus(file);
    } catch (error) {
      throw new RenderFailure(`undecodable asset ${sha256.slice(0, 12)}: ${(error as Error).message}`);
    }
  }

  /** Writes in 100 ms chunks, never more than LEAD_MS ahead of the speakers; returns ms written. */
  async #write(output: AudioOutput, pcm: Int16Array, signal: AbortSignal, pacer: Pacer): Promise<number> {
    let written = 0;
    for (let at = 0; at < pcm.length && !signal.aborted; at += CHUNK) {
      const chunk = pcm.subarray(at, Math.min(pcm.length, at + CHUNK));
      await pacer.beforeWrite();
      if (signal.aborted) break;
      await output.write(chunk);
      const ms = (chunk.length / SAMPLE_RATE) * 1000;
      pacer.wrote(ms);
      written += ms;
    }
    return Math.round(written);
  }

  #pacer(): Pacer {
    const clock = this.o.clock;
    let started: number | undefined;
    let writtenMs = 0;
    const ahead = () => writtenMs - (clock.monotonic() - (started ?? clock.monotonic()));
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    return {
      async beforeWrite() {
        const lead = ahead();
        if (lead > LEAD_MS) await sleep(lead - LEAD_MS);
      },
      whenHeard(callback: () => void) {
        const lead = ahead();
        if (lead <= 0) callback();
        else clock.setTimeout(callback, lead);
      },
      wrote(ms: number) {
        started ??= clock.monotonic();
        writtenMs += ms;
      },
    };
  }
}
