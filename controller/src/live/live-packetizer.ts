import { encodeLivePacket, type LivePacket, type SigningKey } from '@loa/protocols';
import type { TimedFrame } from './live-encoder.js';

/** Frames per signed packet: 60 ms, so the 64-byte signature costs ~9 kbit/s rather than 26. */
export const FRAMES_PER_PACKET = 3;

export interface PacketizerOptions {
  sessionId: string;
  signingKey: SigningKey;
  frameMs: LivePacket['frameMs'];
  framesPerPacket?: number;
  /** Gets each signed packet, in order. Must not throw (publish failures are the caller's to count). */
  send: (bytes: Buffer, packet: LivePacket) => void;
}

/**
 * Groups timed Opus frames into signed LivePackets: `seq` +1 per packet (keep-alives
 * and the last one included), `captureTs` the first frame's time. A packet only holds
 * frames that follow on from each other (frame k plays at captureTs + k·frameMs), so
 * a frame that does not (the timeline was anchored again) starts a new packet.
 */
export class LivePacketizer {
  #seq = 0;
  #frames: TimedFrame[] = [];
  #lastTs = Number.NEGATIVE_INFINITY;
  #ended = false;
  readonly #perPacket: number;
  readonly stats = { framesSent: 0, packetsSent: 0, keepAlives: 0 };

  constructor(readonly options: PacketizerOptions) {
    this.#perPacket = options.framesPerPacket ?? FRAMES_PER_PACKET;
  }

  /** The time of the first frame waiting for its packet to fill, if any. */
  get pendingSince(): number | undefined {
    return this.#frames[0]?.captureTs;
  }

  /** The latest captureTs sent (packets never go back in time). */
  get lastTs(): number {
    return this.#lastTs;
  }

  get ended(): boolean {
    return this.#ended;
  }

  add(frame: TimedFrame): void {
    if (this.#ended) return;
    const first = this.#frames[0];
    if (first && Math.abs(frame.captureTs - (first.captureTs + this.#frames.length * this.options.frameMs)) > 0.5)
      this.flush();
    this.#frames.push(frame);
    if (this.#frames.length >= this.#perPacket) this.flush();
  }

  /** Sends the frames waiting, however few (their play time is near). */
  flush(): void {
    if (this.#frames.length === 0 || this.#ended) return;
    const frames = this.#frames;
    this.#frames = [];
    this.#emit(frames, frames[0]?.captureTs as number, false);
  }

  /** A packet without frames: tells receivers the session is alive while nobody speaks. */
  keepAlive(captureTs: number): void {
    if (this.#ended) return;
    this.flush();
    this.stats.keepAlives++;
    this.#emit([], captureTs, false);
  }

  /** The final packet (`last`), with whatever frames are still waiting. Nothing is sent after it. */
  finish(captureTs: number): void {
    if (this.#ended) return;
    const frames = this.#frames;
    this.#frames = [];
    this.#emit(frames, frames[0]?.captureTs ?? captureTs, true);
    this.#ended = true;
  }

  #emit(frames: TimedFrame[], captureTs: number, last: boolean): void {
    const ts = Math.max(captureTs, this.#lastTs);
    const packet: LivePacket = {
      seq: this.#seq,
      captureTs: ts,
      frameMs: this.options.frameMs,
      last,
      frames: frames.map((f) => f.data),
    };
    const bytes = encodeLivePacket(packet, this.options.sessionId, this.options.signingKey);
    this.#seq = (this.#seq + 1) >>> 0;
    this.#lastTs = ts;
    this.stats.packetsSent++;
    this.stats.framesSent += frames.length;
    this.options.send(bytes, packet);
  }
}
