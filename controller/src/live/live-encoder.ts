import { OPUS_RATE } from '@loa/protocols';
import { OpusFrameEncoder, type OpusSettings } from '../audio/encoding/opus-frame-encoder.js';

/** One Opus frame and the controller time (Unix ms) of its first sample. */
export interface TimedFrame {
  data: Uint8Array;
  captureTs: number;
}

/** Audio arriving more than this much later than the timeline's end is a pause: the timeline starts again there. */
export const REANCHOR_MS = 200;

/**
 * Live PCM to timed Opus frames on one continuous timeline. Chunks from a browser or a
 * radio stream arrive with jitter; stamping each frame with its chunk's arrival would
 * make the receivers' playout jump back and forth, so frames follow on from the previous
 * one and the incoming time only counts when it is more than REANCHOR_MS later (the
 * speaker paused: the timeline is anchored again there). Times never go backwards.
 */
export class LiveEncoder {
  readonly frameMs: number;
  readonly #encoder: OpusFrameEncoder;
  /** Time of the sample at index 0 of the current stretch, and how many samples it holds so far. */
  #anchorTs: number | undefined;
  #samples = 0;
  /** No frame may start before this (a keep-alive already claimed that time). */
  #floor = Number.NEGATIVE_INFINITY;

  constructor(settings: Partial<OpusSettings> = {}) {
    this.#encoder = new OpusFrameEncoder(settings);
    this.frameMs = this.#encoder.settings.frameMs;
  }

  get settings(): OpusSettings {
    return this.#encoder.settings;
  }

  /** Where the next sample falls on the timeline (controller ms); undefined before the first. */
  get nextTs(): number | undefined {
    return this.#anchorTs === undefined ? undefined : this.#anchorTs + (this.#samples * 1000) / OPUS_RATE;
  }

  /** Whether samples are waiting for their frame to fill. */
  get pending(): boolean {
    return this.#encoder.pending > 0;
  }

  /** The timeline may not start again before `ts` (a packet already carried that time). */
  holdFrom(ts: number): void {
    this.#floor = Math.max(this.#floor, ts);
  }

  /** 48 kHz mono samples whose first one was captured at `captureTs`; frames come out through `out`. */
  push(samples: Float32Array, captureTs: number, out: (frame: TimedFrame) => void): void {
    if (samples.length === 0) return;
    this.#place(captureTs, out);
    const anchor = this.#anchorTs as number;
    // The sample index (within this stretch) of the first sample of the frame being filled.
    let frameStart = this.#samples - this.#encoder.pending;
    const frame = this.#encoder.frameSamples;
    this.#encoder.push(samples, (data) => {
      out({ data, captureTs: anchor + (frameStart * 1000) / OPUS_RATE });
      frameStart += frame;
    });
    this.#samples += samples.length;
  }

  /**
   * An Opus frame made elsewhere (a browser's WebCodecs encoder), already 48 kHz mono
   * and `frameMs` long, placed on the same timeline without re-encoding.
   */
  pushEncoded(data: Uint8Array, captureTs: number, out: (frame: TimedFrame) => void): void {
    this.flush(out);
    this.#place(captureTs, out);
    out({ data, captureTs: this.nextTs as number });
    this.#samples += this.#encoder.frameSamples;
  }

  /** Pads the frame being filled with silence and sends it out (before a pause or the end). */
  flush(out: (frame: TimedFrame) => void): void {
    if (!this.pending || this.#anchorTs === undefined) return;
    const padded = this.#encoder.frameSamples - this.#encoder.pending;
    const captureTs = this.#anchorTs + ((this.#samples - this.#encoder.pending) * 1000) / OPUS_RATE;
    const data = this.#encoder.flush();
    this.#samples += padded;
    if (data) out({ data, captureTs });
  }

  /** Continues the timeline, or anchors it again after a pause (the part-filled frame goes out first). */
  #place(captureTs: number, out: (frame: TimedFrame) => void): void {
    const next = this.nextTs;
    if (next !== undefined && captureTs <= next + REANCHOR_MS) return;
    this.flush(out);
    this.#anchorTs = Math.max(captureTs, this.nextTs ?? Number.NEGATIVE_INFINITY, this.#floor);
    this.#samples = 0;
  }

  /**
   * Where audio captured at `captureTs` would land on the timeline: right after what is
   * there when it is near enough, else at its own time (never before a held time).
   * For a source that must start where another left off (a relay's fallback).
   */
  placement(captureTs: number): number {
    const next = this.nextTs;
    if (next !== undefined && captureTs <= next + REANCHOR_MS) return next;
    return Math.max(captureTs, next ?? Number.NEGATIVE_INFINITY, this.#floor);
  }
}
