import { createRequire } from 'node:module';
import { OggOpusMuxer, OPUS_RATE } from '@loa/protocols';

// node-opus, the native libopus binding the design asks for: built from source by node-gyp
// at install (no download), several times faster than libopus compiled to wasm, which
// matters for hours of radio recordings on a 2-core server (controller/README.md, "Opus").
// Its own stream classes need the unbuildable `ogg-packet`, so only the encoder is loaded.
interface NativeOpusEncoder {
  encode(pcm: Buffer): Buffer;
  applyEncoderCTL(ctl: number, value: number): void;
  setBitrate(bitrate: number): void;
}
const NativeEncoder = createRequire(import.meta.url)('node-opus/lib/OpusEncoder.js') as new (
  rate: number,
  channels: number,
  application: number,
) => NativeOpusEncoder;

// From opus_defines.h.
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_BANDWIDTH_WIDEBAND = 1103;
const OPUS_SIGNAL_VOICE = 3001;
/** libopus's look-ahead at 48 kHz (2.5 ms + 4 ms delay compensation): the pre-skip. */
const LOOKAHEAD = 312;

export interface OpusSettings {
  /** Bits per second. Default 24 000: clear speech on a 3G link. */
  bitrate: number;
  /** Frame length in ms (10, 20, 40 or 60). Default 20. */
  frameMs: 10 | 20 | 40 | 60;
  /** Loss the in-band FEC is sized for, in percent (0 turns FEC off). Default 10. */
  expectedLossPercent: number;
}

export const DEFAULT_OPUS: OpusSettings = { bitrate: 24_000, frameMs: 20, expectedLossPercent: 10 };

/**
 * Mono 48 kHz float PCM in, Ogg Opus pages out, as it goes: `push` chunks of any length,
 * then `end`. Speech-tuned (VOIP application, voice signal), in-band FEC so a receiver
 * that loses a packet rebuilds it from the next one.
 */
export class OggOpusEncoder {
  readonly #encoder: NativeOpusEncoder;
  readonly #muxer: OggOpusMuxer;
  readonly #frame: number;
  readonly #pcm: Buffer;
  /** The same memory as #pcm, as samples (host byte order: little-endian, as libopus takes). */
  readonly #samples: Int16Array;
  #filled = 0;
  #input = 0;
  #out: Buffer[] = [];

  constructor(settings: Partial<OpusSettings> = {}, tags: Record<string, string> = {}) {
    const s = { ...DEFAULT_OPUS, ...settings };
    this.#encoder = new NativeEncoder(OPUS_RATE, 1, OPUS_APPLICATION_VOIP);
    this.#encoder.setBitrate(s.bitrate);
    this.#encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, 10);
    this.#encoder.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    // Wideband (8 kHz of audio): all of speech that matters, and what horns reproduce.
    this.#encoder.applyEncoderCTL(OPUS_SET_MAX_BANDWIDTH, OPUS_BANDWIDTH_WIDEBAND);
    this.#encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, s.expectedLossPercent > 0 ? 1 : 0);
    this.#encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, s.expectedLossPercent);
    this.#frame = (OPUS_RATE * s.frameMs) / 1000;
    this.#pcm = Buffer.alloc(this.#frame * 2);
    this.#samples = new Int16Array(this.#pcm.buffer, this.#pcm.byteOffset, this.#frame);
    this.#muxer = new OggOpusMuxer({ preSkip: LOOKAHEAD, vendor: 'loa (libopus via node-opus)', comments: tags });
    this.#out.push(this.#muxer.header());
  }

  push(samples: Float32Array): void {
    this.#input += samples.length;
    const pcm = this.#samples;
    const frame = this.#frame;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as number;
      pcm[this.#filled] = s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32767);
      if (++this.#filled === frame) this.#encodeFrame();
    }
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
    this.push(new Float32Array(LOOKAHEAD));
    if (this.#filled > 0) {
      this.#pcm.fill(0, this.#filled * 2);
      this.#encodeFrame();
    }
    this.#out.push(this.#muxer.end(input));
    return this.take();
  }

  #encodeFrame(): void {
    const packet = this.#encoder.encode(this.#pcm);
    if (!Buffer.isBuffer(packet) || packet.length === 0) throw new Error('libopus refused a frame');
    const page = this.#muxer.packet(packet, this.#frame);
    if (page.length > 0) this.#out.push(page);
    this.#filled = 0;
  }
}
