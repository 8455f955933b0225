import { createRequire } from 'node:module';
import { OPUS_RATE } from '@loa/protocols';

// node-opus, the native libopus binding the design asks for: built from source by node-gyp
// at install (no download), several times faster than libopus compiled to wasm, which
// matters for hours of radio recordings on a 2-core server (controller/README.md, "Opus").
// Its own stream classes need the unbuildable `ogg-packet`, so only the encoder is loaded.
interface NativeOpusEncoder {
  encode(pcm: Buffer): Buffer | undefined;
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
/** libopus's look-ahead at 48 kHz (2.5 ms + 4 ms delay compensation): an Ogg file's pre-skip. */
export const OPUS_LOOKAHEAD = 312;

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
 * The one home of the codec settings: mono 48 kHz float PCM in, raw Opus frames out.
 * Speech-tuned (VOIP application, voice signal, wideband), in-band FEC so a receiver that
 * loses a packet rebuilds it from the next one. Stored files (OggOpusEncoder) and live
 * sessions (LiveEncoder) both encode through it, so they sound the same.
 */
export class OpusFrameEncoder {
  /** Samples per frame (960 for 20 ms). */
  readonly frameSamples: number;
  readonly settings: OpusSettings;
  readonly #encoder: NativeOpusEncoder;
  readonly #pcm: Buffer;
  /** The same memory as #pcm, as samples (host byte order: little-endian, as libopus takes). */
  readonly #samples: Int16Array;
  #filled = 0;

  constructor(settings: Partial<OpusSettings> = {}) {
    const s = { ...DEFAULT_OPUS, ...settings };
    this.settings = s;
    this.#encoder = new NativeEncoder(OPUS_RATE, 1, OPUS_APPLICATION_VOIP);
    this.#encoder.setBitrate(s.bitrate);
    this.#encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, 10);
    this.#encoder.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    // Wideband (8 kHz of audio): all of speech that matters, and what horns reproduce.
    this.#encoder.applyEncoderCTL(OPUS_SET_MAX_BANDWIDTH, OPUS_BANDWIDTH_WIDEBAND);
    this.#encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, s.expectedLossPercent > 0 ? 1 : 0);
    this.#encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, s.expectedLossPercent);
    this.frameSamples = (OPUS_RATE * s.frameMs) / 1000;
    this.#pcm = Buffer.alloc(this.frameSamples * 2);
    this.#samples = new Int16Array(this.#pcm.buffer, this.#pcm.byteOffset, this.frameSamples);
  }

  /** Samples waiting for a frame to fill. */
  get pending(): number {
    return this.#filled;
  }

  /** Takes samples of any count; `onFrame` gets each frame as it fills, in order. */
  push(samples: Float32Array, onFrame: (frame: Buffer) => void): void {
    const pcm = this.#samples;
    const frame = this.frameSamples;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as number;
      pcm[this.#filled] = s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32767);
      if (++this.#filled === frame) onFrame(this.#encodeFrame());
    }
  }

  /** Pads a part-filled frame with silence and encodes it; undefined when nothing is waiting. */
  flush(): Buffer | undefined {
    if (this.#filled === 0) return undefined;
    this.#samples.fill(0, this.#filled);
    return this.#encodeFrame();
  }

  #encodeFrame(): Buffer {
    this.#filled = 0;
    const packet = this.#encoder.encode(this.#pcm);
    if (!Buffer.isBuffer(packet) || packet.length === 0) throw new Error('libopus refused a frame');
    return packet;
  }
}
