import { PIPELINE_RATE } from '../audio/decoding/resample.js';
import { REANCHOR_MS } from '../live/live-encoder.js';

/**
 * Where a relay's audio lands on the live session's timeline. The live encoder keeps
 * its timeline continuous: audio stamped up to REANCHOR_MS after the end of what it has
 * follows on right there, later audio starts the timeline again at its own stamp. A relay
 * switches between two sources (the stream, the paced fallback); if each stamped its own
 * way, the encoder would silently shift one of them by up to REANCHOR_MS and receivers
 * would get it that much closer to its play time. So every push is stamped here with
 * the very time the encoder will give it.
 */
export class RelayTimeline {
  #end: number | undefined;

  /** The end of the audio placed so far (controller ms); undefined before the first. */
  get end(): number | undefined {
    return this.#end;
  }

  /** Where audio wanted at `wanted` will be placed: on at the end when that is near enough, else at `wanted`. */
  next(wanted: number): number {
    if (this.#end === undefined) return wanted;
    return wanted <= this.#end + REANCHOR_MS ? this.#end : wanted;
  }

  /** Places `samples` (48 kHz) wanted at `wanted`; answers their stamp. */
  place(wanted: number, samples: number): number {
    const ts = this.next(wanted);
    this.#end = ts + (samples * 1000) / PIPELINE_RATE;
    return ts;
  }
}
