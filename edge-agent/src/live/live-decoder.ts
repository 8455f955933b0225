import OpusScript from 'opusscript';

/** Live audio is 48 kHz mono (the live.start codec). */
export const LIVE_SAMPLE_RATE = 48_000;

/**
 * Raw Opus frames of a live session to 48 kHz mono 16-bit PCM, one frame at a time, with
 * libopus (opusscript, its wasm build) keeping the decoder state from frame to frame.
 *
 * Loss: `conceal()` runs libopus packet loss concealment. opusscript's decode of an empty
 * packet conceals 60 ms (2880 samples) at once; the rest is kept for the next missing
 * frames, so up to 60 ms of loss is concealed by one continuous PLC run, as libopus
 * expects, and a frame that arrives ends it.
 *
 * In-band FEC: the controller encodes with FEC on, but neither wasm decoder available to
 * the agent (opusscript, opus-decoder) exposes decode_fec, so receivers recover a lost
 * frame with PLC only; the FEC serves decoders that can use it.
 */
export class LiveDecoder {
  readonly frameSamples: number;
  #opus: OpusScript | undefined;
  /** Concealed samples not yet used (from the last PLC run). */
  #plc: Int16Array | undefined;

  constructor(frameMs: number) {
    if (![10, 20, 40, 60].includes(frameMs)) throw new Error(`unsupported Opus frame length ${frameMs} ms`);
    this.frameSamples = (LIVE_SAMPLE_RATE * frameMs) / 1000;
    this.#opus = new OpusScript(LIVE_SAMPLE_RATE, 1);
  }

  /** One frame's samples (an Opus packet of another length is cut or padded to the frame). Throws on an invalid packet. */
  decode(frame: Uint8Array): Int16Array {
    const opus = this.#decoder();
    this.#plc = undefined;
    return this.#fit(opus.decode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)));
  }

  /** One frame of libopus packet loss concealment, in place of a frame that did not arrive. */
  conceal(): Int16Array {
    const opus = this.#decoder();
    if (!this.#plc || this.#plc.length < this.frameSamples) this.#plc = this.#pcm(opus.decode(Buffer.alloc(0)));
    const out = this.#plc.slice(0, this.frameSamples);
    this.#plc = this.#plc.subarray(this.frameSamples);
    return out.length === this.frameSamples ? out : this.#pad(out);
  }

  /** Frees the wasm decoder; the decoder cannot be used after. */
  close(): void {
    this.#opus?.delete();
    this.#opus = undefined;
    this.#plc = undefined;
  }

  #decoder(): OpusScript {
    if (!this.#opus) throw new Error('the live decoder is closed');
    return this.#opus;
  }

  /** opusscript's bytes (a copy it made) as samples; the copy may sit at any offset, so copy again. */
  #pcm(bytes: Buffer): Int16Array {
    const out = new Int16Array(bytes.length >> 1);
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 2));
    return out;
  }

  #fit(bytes: Buffer): Int16Array {
    const pcm = this.#pcm(bytes);
    return pcm.length === this.frameSamples ? pcm : this.#pad(pcm.subarray(0, this.frameSamples));
  }

  #pad(pcm: Int16Array): Int16Array {
    const out = new Int16Array(this.frameSamples);
    out.set(pcm);
    return out;
  }
}
