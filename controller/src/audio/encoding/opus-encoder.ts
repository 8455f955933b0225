import { OggOpusMuxer } from '@loa/protocols';
import { DEFAULT_OPUS, OPUS_LOOKAHEAD, OpusFrameEncoder, type OpusSettings } from './opus-frame-encoder.js';

export { DEFAULT_OPUS, type OpusSettings };

/**
 * Mono 48 kHz float PCM in, Ogg Opus pages out, as it goes: `push` chunks of any length,
 * then `end`. The codec and its settings are OpusFrameEncoder's; this adds the Ogg framing.
 */
export class OggOpusEncoder {
  readonly #encoder: OpusFrameEncoder;
  readonly #muxer: OggOpusMuxer;
  #input = 0;
  #out: Buffer[] = [];
  readonly #onFrame = (frame: Buffer) => {
    const page = this.#muxer.packet(frame, this.#encoder.frameSamples);
    if (page.length > 0) this.#out.push(page);
  };

  constructor(settings: Partial<OpusSettings> = {}, tags: Record<string, string> = {}) {
    this.#encoder = new OpusFrameEncoder(settings);
    this.#muxer = new OggOpusMuxer({ preSkip: OPUS_LOOKAHEAD, vendor: 'loa (libopus via node-opus)', comments: tags });
    this.#out.push(this.#muxer.header());
  }

  push(samples: Float32Array): void {
    this.#input += samples.length;
    this.#encoder.push(samples, this.#onFrame);
  }

  /** The pages completed so far (taken: each page is answered once). */
  take(): Buffer {
    const pages = this.#out.length === 1 ? (this.#out[0] as Buffer) : Buffer.concat(this.#out);
    this.#out = [];
    return pages;
  }

  /** Encodes the rest (and the look-ahead's worth of silence, so the tail is not lost). */
  end(): Buffer {
    const input = this.#input;
    this.#encoder.push(new Float32Array(OPUS_LOOKAHEAD), this.#onFrame);
    const last = this.#encoder.flush();
    if (last) this.#onFrame(last);
    this.#out.push(this.#muxer.end(input));
    return this.take();
  }
}
