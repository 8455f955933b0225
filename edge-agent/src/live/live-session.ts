import { type CommandBody, decodeLivePacket, type TrustedKeySet } from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import { JitterBuffer, type JitterStats } from './jitter-buffer.js';

/** How long after live.stop a session may go on playing what it already received, beyond its latency. */
export const STOP_GRACE_MS = 1000;

/** Why a session ended without playing to its end. */
export type LiveEndReason = 'heartbeat_lost';

/** What the renderer counts of a session: what was heard. */
export interface LivePlayStats {
  /** Frames heard as they arrived. */
  framesPlayed: number;
  /** Frames heard as libopus concealment (missing, inserted, or undecodable). */
  concealed: number;
  /** Frames' worth of silence in place of frames missing too long. */
  silent: number;
  /** Frames skipped to get back in step (an underrun, a clock-sync step). */
  resyncSkipped: number;
  /** Frames that passed the signature but libopus could not decode. */
  undecodable: number;
}

/** A session's counters, for logs and the end-of-session log line. */
export interface LiveCounters extends JitterStats, LivePlayStats {
  packets: number;
  keepAlives: number;
  /** Packets refused, by reason (malformed, unknown_key, bad_signature, frame_ms_mismatch, …). */
  invalid: Record<string, number>;
  extraDelayMs: number;
}

export interface LiveSessionOptions {
  body: CommandBody<'live.start'>;
  keys: TrustedKeySet;
  clock: Clock;
  /** Controller time (clock sync): packets carry their capture time in it. */
  controllerTime: () => number;
  /** The heartbeat stopped: no valid packet for heartbeatTimeoutMs. */
  onHeartbeatLost: (session: LiveSession) => void;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * One live session on a receiver, from its live.start: verifies the packets of its audio
 * topic (signature by a trusted key, bound to the session), keeps their frames in the
 * jitter buffer, and watches the heartbeat (every valid packet, keep-alives too). The
 * live renderer plays it; `LiveSessions` starts and ends it.
 */
export class LiveSession {
  readonly id: string;
  readonly body: CommandBody<'live.start'>;
  readonly buffer: JitterBuffer;
  readonly play: LivePlayStats = { framesPlayed: 0, concealed: 0, silent: 0, resyncSkipped: 0, undecodable: 0 };
  /** Set by the live renderer while it plays the session. */
  rendering = false;
  #packets = 0;
  #keepAlives = 0;
  readonly #invalid: Record<string, number> = {};
  #lastPacketAt: number;
  #heartbeat: TimerHandle | undefined;
  #ended: LiveEndReason | undefined;
  #stopDeadline: number | undefined;
  #lastReceived = false;
  readonly #listeners = new Set<() => void>();

  constructor(private readonly o: LiveSessionOptions) {
    this.id = o.body.sessionId;
    this.body = o.body;
    this.buffer = new JitterBuffer({ frameMs: o.body.codec.frameMs, latencyMs: o.body.latencyMs });
    this.#lastPacketAt = o.clock.monotonic();
    this.#armHeartbeat(o.body.heartbeatTimeoutMs);
  }

  /** Set when the session ended early (the heartbeat stopped). */
  get ended(): LiveEndReason | undefined {
    return this.#ended;
  }

  /** Controller time after which a stopped session plays no more (live.stop plus latency and grace). */
  get stopDeadline(): number | undefined {
    return this.#stopDeadline;
  }

  /** The `last` packet or live.stop came: nothing more will be sent. */
  get finishing(): boolean {
    return this.#lastReceived || this.#stopDeadline !== undefined;
  }

  /** A payload from the session's audio topic. Invalid packets are counted (and logged once per reason), never played. */
  receive(payload: Uint8Array): boolean {
    if (this.#ended) return false;
    const check = decodeLivePacket(payload, this.id, this.o.keys);
    if (!check.ok) {
      this.#refuse(check.reason, check.detail);
      return false;
    }
    const packet = check.packet;
    if (packet.frameMs !== this.body.codec.frameMs) {
      this.#refuse('frame_ms_mismatch', `${packet.frameMs} ms frames in a ${this.body.codec.frameMs} ms session`);
      return false;
    }
    this.#packets++;
    if (packet.frames.length === 0) this.#keepAlives++;
    this.#lastPacketAt = this.o.clock.monotonic();
    this.buffer.push(packet, this.o.controllerTime());
    if (packet.last) {
      this.#lastReceived = true;
      this.buffer.finish(packet.captureTs + packet.frames.length * packet.frameMs);
      this.#stopHeartbeat();
    }
    this.#notify();
    return true;
  }

  /** live.stop: play what was received (for at most latencyMs + STOP_GRACE_MS), then end. */
  stop(): void {
    if (this.#stopDeadline !== undefined) return;
    this.#stopDeadline = this.o.controllerTime() + this.body.latencyMs + STOP_GRACE_MS;
    this.buffer.finish();
    this.#stopHeartbeat();
    this.#notify();
  }

  /** Calls back on anything that may let the renderer go on: frames, the end, a stop. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  counters(): LiveCounters {
    return {
      packets: this.#packets,
      keepAlives: this.#keepAlives,
      invalid: { ...this.#invalid },
      ...this.buffer.stats,
      ...this.play,
      extraDelayMs: this.buffer.extraDelayMs,
    };
  }

  /** Stops the heartbeat watch (the session is being forgotten). */
  close(): void {
    this.#stopHeartbeat();
    this.#listeners.clear();
  }

  #refuse(reason: string, detail: string): void {
    const seen = this.#invalid[reason] ?? 0;
    this.#invalid[reason] = seen + 1;
    // Once per reason: a flood of forged packets must not flood the log too.
    if (seen === 0) this.o.log?.('live packet refused', { sessionId: this.id, reason, detail });
  }

  #armHeartbeat(inMs: number): void {
    this.#heartbeat = this.o.clock.setTimeout(() => {
      this.#heartbeat = undefined;
      // One timer per timeout, not per packet: it checks when the last packet came and sleeps on.
      const left = this.#lastPacketAt + this.body.heartbeatTimeoutMs - this.o.clock.monotonic();
      if (left > 0) return this.#armHeartbeat(left);
      this.#ended = 'heartbeat_lost';
      this.o.log?.('live heartbeat lost', { sessionId: this.id, timeoutMs: this.body.heartbeatTimeoutMs });
      this.#notify();
      this.o.onHeartbeatLost(this);
    }, inMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) this.o.clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        this.o.log?.('live session listener failed', { sessionId: this.id, error: String(error) });
      }
    }
  }
}
