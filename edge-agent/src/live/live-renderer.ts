import type { FaultCode, PlayableItem } from '@loa/protocols';
import { type Amplifier, AmplifierError, faultOf } from '../audio/amplifier.js';
import { applyGain, gainOf } from '../audio/gain.js';
import { decodeOggOpus, looksLikeOggOpus } from '../audio/opus-decoder.js';
import { Pacer } from '../audio/pacer.js';
import { chime } from '../audio/tones.js';
import { ABORTED, untilAborted } from '../audio/until-aborted.js';
import type { AudioOutput, AudioSink, Clock } from '../hardware/seams.js';
import type { Renderer, RenderOutcome, RenderProgress } from '../playback/renderer.js';
import type { PlayoutFrame } from './jitter-buffer.js';
import { LIVE_SAMPLE_RATE, LiveDecoder } from './live-decoder.js';
import type { LiveSession } from './live-session.js';
import type { LiveSessionLookup } from './live-sessions.js';

/** The most written ahead of the speakers: little, since a frame taken from the jitter buffer is committed. */
export const LIVE_LEAD_MS = 100;
/** Writing resumes when less than this is left to be heard: a margin for a busy event loop, a few frames per wake. */
export const LIVE_REFILL_MS = 60;
/** After anything but stream audio (the chime, silence, concealment) a frame is placed this exactly. */
const EXACT_MS = 0.5;
/** A decoded frame quieter than this (RMS, about −45 dBFS) is where a frame is best dropped to lower the delay. */
const QUIET_RMS = 180;
/** While waiting for the stream, the session is looked at again at least this often. */
const IDLE_RECHECK_MS = 1000;
const SAMPLES_PER_MS = LIVE_SAMPLE_RATE / 1000;

/** One frame of a live stream as it is written for its time (see LiveRendererOptions.onFrameHeard). */
export interface LiveFrameHeard {
  sessionId: string;
  /** The frame's packet and its place in it; -1 for a concealed frame standing for a lost one. */
  seq: number;
  frameIndex: number;
  /** Controller time the frame was captured: its packet's captureTs + frameIndex·frameMs. */
  captureTs: number;
  /** Controller time its first sample is heard, by the sink's schedule. */
  playoutAt: number;
  concealed: boolean;
}

export interface LiveRendererOptions {
  sink: AudioSink;
  amplifier: Amplifier;
  clock: Clock;
  /** Controller time (clock sync): every receiver plays frame k at captureTs + k·frameMs + latencyMs of it. */
  controllerTime: () => number;
  /** The live sessions, by item id (= session id). */
  sessions: LiveSessionLookup;
  /** The content cache, for a live.start's own chime (preludeSha256); without it the built-in chime plays. */
  readAsset?: (sha256: string) => Promise<Buffer | undefined>;
  /** The receiver's master volume 0..100, applied on top of the session's; read at every frame. */
  masterVolume?: () => number;
  /** The fault a session failed with (audio_device_error, speaker_line_open, …). */
  onFault?: (code: FaultCode, detail: string) => void;
  /** Each stream frame (heard or concealed, not silence) as it is written, for latency and sync measurements. */
  onFrameHeard?: (frame: LiveFrameHeard) => void;
}

class LiveFailure extends Error {
  constructor(
    readonly reason: string,
    readonly fault?: FaultCode,
  ) {
    super(reason);
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Plays live sessions (items whose id is an open LiveSession's). The amplifier is
 * acquired and the chime played at once; then the stream is written so that each frame is
 * heard at its playout time in controller time: the first one after leading silence,
 * frames whose time passed during the chime skipped (a late joiner is in step with the
 * others at once), and if the speakers drift from that schedule by more than a frame (an
 * underrun, a clock-sync step) frames are skipped, or silence inserted, to get back in
 * step. Writes are paced on the clock, never more than LIVE_LEAD_MS ahead.
 *
 * Progress (repetition 1, the session's language) is reported when the first frame is
 * heard: the engine's `started`. It ends `finished` after the last packet or a live.stop
 * has played out, `aborted` at once on the engine's abort (an emergency, a stop),
 * `aborted` with reason `heartbeat_lost` when the session's heartbeat stops, or `failed`
 * (amplifier, line or sound device). `playedMs` is the stream heard, chime excluded.
 */
export class LiveRenderer implements Renderer {
  constructor(private readonly o: LiveRendererOptions) {}

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    const session = this.o.sessions.get(item.itemId);
    if (!session) return { result: 'failed', playedMs: 0, reason: 'live_session_unknown' };
    if (signal.aborted) return { result: 'aborted', playedMs: 0 };
    session.rendering = true;
    let outcome: RenderOutcome;
    try {
      outcome = await new LivePlayback(this.o, session, item, signal, onProgress).run();
    } finally {
      session.rendering = false;
    }
    if (outcome.result === 'failed' && outcome.fault) this.o.onFault?.(outcome.fault, outcome.reason);
    return outcome;
  }
}

/** A frame taken from the jitter buffer, decoded. */
interface Decoded {
  frame: PlayoutFrame;
  pcm: Int16Array;
  /** What is heard: the frame, a concealment (also for an undecodable frame), or silence. */
  heard: 'audio' | 'conceal' | 'silence';
}

/** One live session being played. */
class LivePlayback {
  readonly #pacer: Pacer;
  readonly #decoder: LiveDecoder;
  readonly #frameMs: number;
  readonly #itemGain: number;
  #output: AudioOutput | undefined;
  /** Stream sound written (frames, concealment, silence), ms. */
  #streamMs = 0;
  #firstHeard = false;

  constructor(
    private readonly o: LiveRendererOptions,
    private readonly session: LiveSession,
    private readonly item: PlayableItem,
    private readonly signal: AbortSignal,
    private readonly onProgress: ((progress: RenderProgress) => void) | undefined,
  ) {
    this.#pacer = new Pacer(o.clock);
    this.#frameMs = session.buffer.frameMs;
    this.#decoder = new LiveDecoder(this.#frameMs);
    this.#itemGain = gainOf(item.volume);
  }

  async run(): Promise<RenderOutcome> {
    const { amplifier } = this.o;
    const signal = this.signal;
    const onAbort = () => {
      this.#pacer.stop();
      void this.#output?.abort().catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // A lost heartbeat ends the sound as an abort does, without waiting for the next write.
    const offEnded = this.session.onChange(() => {
      if (this.session.ended) onAbort();
    });
    let acquired = false;
    try {
      const prelude = this.item.prelude === 'none' ? undefined : this.#prelude();
      const acquiring = amplifier.acquire();
      const check = await untilAborted(acquiring, signal).catch((error: unknown) => {
        if (error instanceof AmplifierError) throw new LiveFailure(`failed_to_sound: ${error.message}`, error.fault);
        throw error;
      });
      if (check === ABORTED) {
        acquiring.then(
          () => amplifier.release(),
          () => {},
        );
        return this.#aborted();
      }
      acquired = true;
      const fault = faultOf(check);
      if (fault) throw new LiveFailure(`failed_to_sound: line check found ${fault}`, fault);
      const output = await this.#device(() => this.o.sink.open({ sampleRate: LIVE_SAMPLE_RATE, channels: 1 }));
      this.#output = output;
      if (prelude) await this.#playPrelude(await prelude);
      // Compiled while the amplifier warmed up and the chime played: long ready by now.
      await this.#decoder.ready;
      const ended = await this.#stream();
      if (ended) return ended;
      await this.#device(() => output.drain());
      if (signal.aborted) return this.#aborted();
      this.#pacer.flush();
      return { result: 'finished', playedMs: Math.round(this.#streamMs) };
    } catch (error) {
      if (signal.aborted) return this.#aborted();
      await this.#output?.abort().catch(() => {});
      const failure = error instanceof LiveFailure ? error : new LiveFailure(`render_error: ${message(error)}`);
      return {
        result: 'failed',
        playedMs: this.#heardMs(),
        reason: failure.reason,
        ...(failure.fault ? { fault: failure.fault } : {}),
      };
    } finally {
      signal.removeEventListener('abort', onAbort);
      offEnded();
      this.#pacer.stop();
      this.#decoder.close();
      await this.#output?.close().catch(() => {});
      if (acquired) amplifier.release();
    }
  }

  /** The session's own chime if it is cached and sound, else the built-in one (a prelude never silences the session). */
  async #prelude(): Promise<Int16Array> {
    const sha256 = this.item.preludeSha256;
    if (!sha256 || !this.o.readAsset) return chime();
    try {
      const file = await this.o.readAsset(sha256);
      if (file && looksLikeOggOpus(file)) return await decodeOggOpus(file);
    } catch {
      // Falls back to the built-in chime below.
    }
    return chime();
  }

  async #playPrelude(pcm: Int16Array): Promise<void> {
    const block = this.#frameMs * SAMPLES_PER_MS;
    for (let at = 0; at < pcm.length; at += block) {
      await this.#room(this.#frameMs);
      if (this.#stopped()) return;
      await this.#write(applyGain(pcm.subarray(at, Math.min(pcm.length, at + block)), this.#gain()));
    }
  }

  /**
   * The stream, frame by frame, each at its playout time. Resolves undefined when it has
   * ended normally (the last packet, or a stop, played out), or the outcome that ends it early.
   */
  async #stream(): Promise<RenderOutcome | undefined> {
    const { session } = this;
    const buffer = session.buffer;
    const frameMs = this.#frameMs;
    let pending: Decoded | undefined;
    /** Whether the sound just written was stream audio (then small offsets are left alone, not cut into). */
    let afterAudio = false;
    for (;;) {
      if (this.signal.aborted) return this.#aborted();
      if (session.ended) {
        await this.#output?.abort().catch(() => {});
        return { result: 'aborted', playedMs: this.#heardMs(), reason: session.ended };
      }
      const now = this.o.controllerTime();
      const ahead = Math.max(0, this.#pacer.ahead());
      const heardAt = now + ahead;
      const deadline = session.stopDeadline;
      if (deadline !== undefined && heardAt >= deadline) return undefined;
      if (ahead + frameMs > LIVE_LEAD_MS) {
        await this.#pacer.untilLeadBelow(LIVE_REFILL_MS);
        continue;
      }
      if (!pending) {
        if (!buffer.started && !buffer.start(heardAt)) {
          if (session.finishing && buffer.size === 0) return undefined;
          await this.#change(deadline === undefined ? IDLE_RECHECK_MS : Math.max(1, deadline - now));
          continue;
        }
        pending = this.#next(now);
        if (!pending) return undefined;
      }
      const delta = pending.frame.playoutAt - heardAt;
      if (delta > (afterAudio ? frameMs : EXACT_MS)) {
        // Early: silence up to its time (the first frame, or the schedule moved ahead).
        const ms = Math.min(delta, LIVE_LEAD_MS - ahead);
        await this.#write(new Int16Array(Math.max(1, Math.round(ms * SAMPLES_PER_MS))));
        afterAudio = false;
        continue;
      }
      if (delta <= -frameMs) {
        // A frame or more behind the schedule: this frame's time has gone.
        session.play.resyncSkipped++;
        pending = undefined;
        continue;
      }
      const trimMs = !afterAudio && delta < -EXACT_MS ? -delta : 0;
      const { frame, pcm, heard } = pending;
      pending = undefined;
      const trim = Math.min(pcm.length, Math.round(trimMs * SAMPLES_PER_MS));
      if (heard === 'audio' && !this.#firstHeard) {
        this.#firstHeard = true;
        const progress = { repetition: 1, language: session.body.language ?? 'vie' };
        this.#pacer.whenHeard(() => {
          if (!this.signal.aborted) this.onProgress?.(progress);
        });
      }
      const samples = pcm.subarray(trim);
      await this.#write(heard === 'silence' ? samples : applyGain(samples, this.#gain()));
      this.#streamMs += samples.length / SAMPLES_PER_MS;
      if (heard === 'audio') session.play.framesPlayed++;
      else if (heard === 'conceal') session.play.concealed++;
      else session.play.silent++;
      afterAudio = heard === 'audio';
      if (heard !== 'silence') this.#heard(frame, heard, heardAt - trimMs);
    }
  }

  /** The next frame to be heard, decoded; frames dropped to lower the delay are decoded too (the decoder follows the stream). */
  #next(now: number): Decoded | undefined {
    const buffer = this.session.buffer;
    for (;;) {
      const frame = buffer.take(now);
      if (frame === 'end') return undefined;
      const decoded = this.#decode(frame);
      if (!buffer.lowerNow(now, decoded.heard !== 'audio' || rms(decoded.pcm) < QUIET_RMS)) return decoded;
    }
  }

  #decode(frame: PlayoutFrame): Decoded {
    if (frame.kind === 'silence') return { frame, pcm: new Int16Array(this.#decoder.frameSamples), heard: 'silence' };
    if (frame.kind === 'audio') {
      try {
        return { frame, pcm: this.#decoder.decode(frame.data), heard: 'audio' };
      } catch {
        // Signed but not Opus (a controller bug): concealed like a lost frame.
        this.session.play.undecodable++;
      }
    }
    return { frame, pcm: this.#decoder.conceal(), heard: 'conceal' };
  }

  #heard(frame: PlayoutFrame, heard: 'audio' | 'conceal', playoutAt: number): void {
    const hook = this.o.onFrameHeard;
    if (!hook) return;
    try {
      hook({
        sessionId: this.session.id,
        seq: heard === 'audio' && frame.kind === 'audio' ? frame.seq : -1,
        frameIndex: heard === 'audio' && frame.kind === 'audio' ? frame.frameIndex : -1,
        captureTs: frame.slot,
        playoutAt,
        concealed: heard !== 'audio',
      });
    } catch {
      // A measurement hook must never break the sound.
    }
  }

  #gain(): number {
    return this.#itemGain * gainOf(this.o.masterVolume?.() ?? 100);
  }

  /** Waits until `ms` more can be written without going beyond LIVE_LEAD_MS. */
  async #room(ms: number): Promise<void> {
    if (this.#pacer.ahead() + ms > LIVE_LEAD_MS) await this.#pacer.untilLeadBelow(LIVE_REFILL_MS);
  }

  /** Until the session changes (frames, a stop, the end), the abort, or `ms` on the clock. */
  #change(ms: number): Promise<void> {
    const { clock } = this.o;
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        off();
        clock.clearTimeout(timer);
        this.signal.removeEventListener('abort', finish);
        resolve();
      };
      const off = this.session.onChange(finish);
      const timer = clock.setTimeout(finish, ms);
      this.signal.addEventListener('abort', finish, { once: true });
    });
  }

  async #write(pcm: Int16Array): Promise<void> {
    const output = this.#output;
    if (!output || pcm.length === 0) return;
    await this.#device(() => output.write(pcm));
    this.#pacer.wrote(pcm.length / SAMPLES_PER_MS);
  }

  #stopped(): boolean {
    return this.signal.aborted || this.session.ended !== undefined;
  }

  async #device<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw new LiveFailure(`audio_device_error: ${message(error)}`, 'audio_device_error');
    }
  }

  #aborted(): RenderOutcome {
    return { result: 'aborted', playedMs: this.#heardMs() };
  }

  /** Stream sound heard so far: what was written less what the speakers have not played yet. */
  #heardMs(): number {
    return Math.round(Math.max(0, this.#streamMs - Math.max(0, this.#pacer.ahead())));
  }
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}
