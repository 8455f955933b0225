import { randomUUID } from 'node:crypto';
import {
  type CommandBody,
  generateSigningKey,
  loadSigningKey,
  type PlayableItem,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import { Amplifier } from '../../src/audio/amplifier.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { AudioOutput, AudioSink, PcmFormat } from '../../src/hardware/seams.js';
import { type LiveFrameHeard, LiveRenderer, type LiveRendererOptions } from '../../src/live/live-renderer.js';
import { LiveSession } from '../../src/live/live-session.js';
import { liveItem } from '../../src/live/live-sessions.js';
import type { RenderOutcome, RenderProgress } from '../../src/playback/renderer.js';
import { opusFrames, TestStream } from './live-fixtures.js';

export const T0 = Date.parse('2026-11-23T23:00:00Z');
const RATE = 48_000;

/** One write as the speakers would play it: from when (controller time) and what. */
export interface HeardWrite {
  at: number;
  samples: Int16Array;
}

/**
 * A timing-only sink that keeps what it is given, each write placed where it would be
 * heard (back to back from the first, or from the moment writing resumed after running
 * dry), in controller time, so a test sees what the horns play and when.
 */
export class RecordingSink implements AudioSink {
  readonly writes: HeardWrite[] = [];
  readonly events: string[] = [];
  /** The most written ahead of the speakers, ms. */
  maxLeadMs = 0;

  constructor(
    private readonly clock: ManualClock,
    private readonly controllerTime: () => number,
  ) {}

  async open(_format: PcmFormat): Promise<AudioOutput> {
    const { clock } = this;
    let endsAt = clock.monotonic();
    let drain: { timer: object; resolve: () => void } | undefined;
    this.events.push('open');
    return {
      write: async (pcm) => {
        const now = clock.monotonic();
        const startsAt = Math.max(endsAt, now);
        endsAt = startsAt + (pcm.length / RATE) * 1000;
        this.maxLeadMs = Math.max(this.maxLeadMs, endsAt - now);
        this.writes.push({ at: this.controllerTime() + (startsAt - now), samples: pcm.slice() });
      },
      drain: () =>
        new Promise<void>((resolve) => {
          drain = { timer: clock.setTimeout(resolve, Math.max(0, endsAt - clock.monotonic())), resolve };
        }),
      abort: async () => {
        this.events.push('abort');
        if (drain) clock.clearTimeout(drain.timer);
        drain?.resolve();
      },
      close: async () => {
        this.events.push('close');
      },
    };
  }

  /** The samples heard between two controller times (what the horns played then). */
  heard(from: number, to: number): Int16Array {
    const out: number[] = [];
    for (const w of this.writes) {
      const end = w.at + (w.samples.length / RATE) * 1000;
      if (end <= from || w.at >= to) continue;
      const first = Math.max(0, Math.round((from - w.at) * 48));
      const last = Math.min(w.samples.length, Math.round((to - w.at) * 48));
      for (let i = first; i < last; i++) out.push(w.samples[i] as number);
    }
    return Int16Array.from(out);
  }
}

export interface HarnessOptions {
  body?: Partial<CommandBody<'live.start'>>;
  warmUpMs?: number;
  masterVolume?: number;
  /** When the controller declares the session on air: the first frame's capture time. */
  onAirAt?: number;
  /** How long a packet takes from its last frame's capture to the receiver. */
  transitMs?: number;
  seconds?: number;
  hz?: number;
}

/**
 * A live session on one receiver, on a manual clock: a controller stream (a tone, three
 * 20 ms frames to a signed packet) delivered at capture time + transit, the session,
 * and the live renderer with a recording sink.
 */
export class LiveHarness {
  readonly clock = new ManualClock(T0);
  /** Added to the local clock to give controller time (a clock-sync step changes it). */
  offset = 0;
  readonly controllerTime = () => this.clock.now() + this.offset;
  readonly key = generateSigningKey();
  readonly keys = new TrustedKeySet([trustedKeyFor(this.key)]);
  readonly sink: RecordingSink;
  readonly session: LiveSession;
  readonly stream: TestStream;
  readonly heardFrames: Array<LiveFrameHeard & { sinkAt: number }> = [];
  readonly progress: Array<RenderProgress & { at: number }> = [];
  readonly abort = new AbortController();
  readonly amplifier: Amplifier;
  readonly gpio = new VirtualGpio();
  readonly logs: Array<{ message: string; detail?: Record<string, unknown> }> = [];
  /** Timed actions in controller time (packets, stops, aborts, clock steps). */
  #actions: Array<{ at: number; run: () => void }> = [];
  #rendererOptions: Partial<LiveRendererOptions> = {};

  constructor(readonly o: HarnessOptions = {}) {
    this.sink = new RecordingSink(this.clock, this.controllerTime);
    const body: CommandBody<'live.start'> = {
      sessionId: randomUUID(),
      priority: 'live',
      codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: 24000 },
      latencyMs: 250,
      heartbeatTimeoutMs: 5000,
      prelude: 'chime',
      volume: 100,
      ...o.body,
    };
    this.session = new LiveSession({
      body,
      keys: this.keys,
      clock: this.clock,
      controllerTime: this.controllerTime,
      onHeartbeatLost: () => {},
      log: (message, detail) => this.logs.push({ message, ...(detail ? { detail } : {}) }),
    });
    this.stream = new TestStream(
      body.sessionId,
      loadSigningKey(this.key),
      o.onAirAt ?? T0 + 2500,
      opusFrames(tone(o.hz ?? 440, o.seconds ?? 2)),
    );
    this.amplifier = new Amplifier({
      gpio: this.gpio,
      line: '17',
      clock: this.clock,
      warmUpMs: o.warmUpMs ?? 0,
      holdMs: 0,
    });
  }

  get item(): PlayableItem {
    return liveItem(this.session.body);
  }

  /**
   * Packets of the whole stream, each delivered `transitMs` after its last frame was
   * captured (plus `delay(seq)`), those `filter` keeps.
   */
  sendStream(filter: (seq: number) => boolean = () => true, delay: (seq: number) => number = () => 0): void {
    const transit = this.o.transitMs ?? 30;
    while (this.stream.left > 0) {
      const { bytes, packet } = this.stream.packet();
      if (!filter(packet.seq)) continue;
      const at = packet.captureTs + packet.frames.length * 20 + transit + delay(packet.seq);
      this.at(at, () => this.session.receive(bytes));
    }
  }

  at(time: number, run: () => void): void {
    this.#actions.push({ at: time, run });
    this.#actions.sort((a, b) => a.at - b.at);
  }

  options(over: Partial<LiveRendererOptions>): void {
    this.#rendererOptions = over;
  }

  render(item: PlayableItem = this.item): Promise<RenderOutcome> {
    const renderer = new LiveRenderer({
      sink: this.sink,
      amplifier: this.amplifier,
      clock: this.clock,
      controllerTime: this.controllerTime,
      sessions: { get: (id) => (id === this.session.id ? this.session : undefined) },
      masterVolume: () => this.o.masterVolume ?? 100,
      onFrameHeard: (frame) => {
        // Where the sink put the write just made: what the horns really play, not what the renderer says.
        const last = this.sink.writes.at(-1) as HeardWrite;
        const sinkAt = last.at + (last.samples.length < 960 ? -((960 - last.samples.length) / 48) : 0);
        this.heardFrames.push({ ...frame, sinkAt });
      },
      ...this.#rendererOptions,
    });
    return renderer.render(item, this.abort.signal, (p) => this.progress.push({ ...p, at: this.controllerTime() }));
  }

  /** Runs the clock in small steps (timed actions on the way) until the render ends. */
  async run(rendering: Promise<RenderOutcome>, limitMs = 60_000, stepMs = 5): Promise<RenderOutcome> {
    let done = false;
    rendering.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (let t = 0; !done && t < limitMs; t += stepMs) {
      await this.clock.advance(stepMs);
      while (this.#actions[0] && this.#actions[0].at <= this.controllerTime()) this.#actions.shift()?.run();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!done) throw new Error(`the render did not end within ${limitMs} ms`);
    return rendering;
  }
}

/** A steady tone, −6 dBFS. */
export function tone(hz: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(RATE * seconds));
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / RATE);
  return out;
}
