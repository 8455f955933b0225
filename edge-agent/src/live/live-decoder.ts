import { OpusDecoder } from 'opus-decoder';
import { floatToPcm16 } from '../audio/gain.js';

/** Live audio is 48 kHz mono (the live.start codec). */
export const LIVE_SAMPLE_RATE = 48_000 as const;

/**
 * Raw Opus frames of a live session to 48 kHz mono 16-bit PCM, one frame at a time, with
 * libopus (opus-decoder, its wasm build from the same family as ogg-opus-decoder, which the
 * agent already uses for files) keeping the decoder state from frame to frame.
 *
 * Not opusscript: its 0.1.1 wrapper indexes its 16-bit heap views with byte addresses,
 * so every decode writes PCM outside the block it allocated; with a few decoders in one
 * process (a simulated fleet, or one session after another on a receiver) that corrupts
 * the wasm heap and a session fails with "memory access out of bounds".
 *
 * Loss: `conceal()` runs libopus packet loss concealment. A decode of an empty packet
 * conceals 120 ms at once; the rest is kept for the next missing frames, so a run of
 * losses is one continuous PLC run, as libopus expects, and a frame that arrives ends it.
 *
 * In-band FEC: the controller encodes with FEC on, but the wasm decoders available to the
 * agent (opus-decoder, opusscript) do not expose decode_fec, so receivers recover a lost
 * frame with PLC only; the FEC serves decoders that can use it.
 */
export class LiveDecoder {
  readonly frameSamples: number;
  /** Resolves once the wasm decoder is compiled; decode and conceal throw before. */
  readonly ready: Promise<void>;
  #opus: OpusDecoder<typeof LIVE_SAMPLE_RATE> | undefined;
  #ready = false;
  /** Concealed samples not yet used (from the last PLC run). */
  #plc: Int16Array | undefined;

  constructor(frameMs: number) {
    if (![10, 20, 40, 60].includes(frameMs)) throw new Error(`unsupported Opus frame length ${frameMs} ms`);
    this.frameSamples = (LIVE_SAMPLE_RATE * frameMs) / 1000;
    const opus = new OpusDecoder({ channels: 1, sampleRate: LIVE_SAMPLE_RATE, preSkip: 0 });
    this.#opus = opus;
    this.ready = opus.ready.then(() => {
      this.#ready = true;
    });
  }

  /** One frame's samples (an Opus packet of another length is cut or padded to the frame). Throws on an invalid packet. */
  decode(frame: Uint8Array): Int16Array {
    const pcm = this.#run(frame);
    if (pcm.length === 0) throw new Error('Invalid packet: nothing decoded');
    this.#plc = undefined;
    return this.#fit(pcm);
  }

  /** One frame of libopus packet loss concealment, in place of a frame that did not arrive. */
  conceal(): Int16Array {
    if (!this.#plc || this.#plc.length < this.frameSamples) this.#plc = this.#run(new Uint8Array(0));
    const out = this.#plc.slice(0, this.frameSamples);
    this.#plc = this.#plc.subarray(this.frameSamples);
    return this.#fit(out);
  }

  /** Frees the wasm decoder; the decoder cannot be used after. */
  close(): void {
    const opus = this.#opus;
    // The wasm instance exists only once compiled: one closed before that is freed then.
    if (opus && this.#ready) opus.free();
    else if (opus) void this.ready.then(() => opus.free()).catch(() => {});
    this.#opus = undefined;
    this.#plc = undefined;
  }

  #run(frame: Uint8Array): Int16Array {
    const opus = this.#opus;
    if (!opus) throw new Error('the live decoder is closed');
    if (!this.#ready) throw new Error('the live decoder is not ready yet (await ready)');
    const out = opus.decodeFrame(frame);
    const error = out.errors[0];
    if (error && out.samplesDecoded === 0) throw new Error(`Invalid packet: ${error.message}`);
    const samples = out.channelData[0]?.subarray(0, out.samplesDecoded) ?? new Float32Array(0);
    return floatToPcm16(samples, 1);
  }

  #fit(pcm: Int16Array): Int16Array {
    if (pcm.length === this.frameSamples) return pcm;
    const out = new Int16Array(this.frameSamples);
    out.set(pcm.subarray(0, this.frameSamples));
    return out;
  }
}
