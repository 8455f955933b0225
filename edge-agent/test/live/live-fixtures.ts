import { encodeLivePacket, type LivePacket, type SigningKey } from '@loa/protocols';
import OpusScript from 'opusscript';

/** 48 kHz mono samples (−1..1) as raw 20 ms Opus frames, encoded as the controller does (VOIP, 24 kbit/s, FEC). */
export function opusFrames(samples: Float32Array, frameMs = 20): Uint8Array[] {
  const size = 48 * frameMs;
  const encoder = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  encoder.setBitrate(24_000);
  encoder.encoderCTL(4012, 1); // OPUS_SET_INBAND_FEC
  encoder.encoderCTL(4014, 10); // OPUS_SET_PACKET_LOSS_PERC
  const frames: Uint8Array[] = [];
  const pcm = Buffer.alloc(size * 2);
  for (let at = 0; at < samples.length; at += size) {
    for (let i = 0; i < size; i++) {
      const s = samples[at + i] ?? 0;
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2);
    }
    frames.push(new Uint8Array(encoder.encode(pcm, size)));
  }
  encoder.delete();
  return frames;
}

/**
 * A controller's live stream for tests: frames put three to a signed packet, captureTs on
 * a continuous timeline from `startTs`, seq +1 per packet.
 */
export class TestStream {
  #seq = 0;
  #next = 0;

  constructor(
    readonly sessionId: string,
    readonly key: SigningKey,
    readonly startTs: number,
    readonly frames: Uint8Array[],
    readonly frameMs: 20 = 20,
  ) {}

  /** Frames still to send. */
  get left(): number {
    return this.frames.length - this.#next;
  }

  /** The next packet (up to 3 frames), `last` on the final one; with `skip` its seq is used but it is not returned (a loss). */
  packet(): { bytes: Buffer; packet: LivePacket } {
    const first = this.#next;
    const frames = this.frames.slice(first, first + 3);
    this.#next += frames.length;
    const packet: LivePacket = {
      seq: this.#seq++,
      captureTs: this.startTs + first * this.frameMs,
      frameMs: this.frameMs,
      last: this.#next >= this.frames.length,
      frames,
    };
    return { bytes: encodeLivePacket(packet, this.sessionId, this.key), packet };
  }

  /** A keep-alive (no frames) at the current end of the timeline. */
  keepAlive(): Buffer {
    return encodeLivePacket(
      {
        seq: this.#seq++,
        captureTs: this.startTs + this.#next * this.frameMs,
        frameMs: this.frameMs,
        last: false,
        frames: [],
      },
      this.sessionId,
      this.key,
    );
  }
}
