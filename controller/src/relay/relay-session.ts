import type { AssetStore } from '../assets/asset-store.js';
import { PIPELINE_RATE } from '../audio/decoding/resample.js';
import { type LiveBroadcast, type LiveDeps, openLiveSession } from '../live/live-broadcast.js';
import { DEFAULT_DEAD_AIR_S } from '../scheduling/schedule-check.js';
import { type AirCheck, DeadAirDetector } from './dead-air.js';
import { chooseFallback, FallbackPlayer, LoopingPcm, RELAY_LEAD_MS, readAsset } from './fallback-audio.js';
import { RelaySource } from './relay-source.js';

export interface RelayDeps extends LiveDeps {
  assets: AssetStore;
}

export interface RelaySettings {
  /** While the stream is dead air, it is tried again this long after the last attempt gave up (RELAY_RETRY_S). */
  retryS: number;
  /** ffmpeg's connect and read timeout (RELAY_TIMEOUT_S). */
  timeoutS: number;
  ffmpegPath: string;
  /** Sound a retry must deliver before the relay switches back to it. */
  resumeSoundMs: number;
  silenceDbfs?: number;
}

export const DEFAULT_RELAY_SETTINGS: RelaySettings = {
  retryS: 15,
  timeoutS: 10,
  ffmpegPath: 'ffmpeg',
  resumeSoundMs: 2000,
};

/** How often the stream's health is judged. */
const CHECK_MS = 250;

/** One pull of the stream and the detector judging it. */
interface Attempt {
  source: RelaySource;
  detector: DeadAirDetector;
  startedAt: number;
}

/** What a relay session is doing: airing the stream, or the fallback while the stream is dead air. */
export type RelayMode = 'stream' | 'fallback' | 'ended';

/**
 * Opens the live session of one relay occurrence (session id = occurrence id; a second
 * controller instance loses the insert with a 409 Problem) and starts relaying. The
 * caller (the runner) has checked that the occurrence is planned and on now.
 */
export async function startRelaySession(
  deps: RelayDeps,
  occurrenceId: string,
  settings: Partial<RelaySettings> = {},
): Promise<RelaySession> {
  const occurrence = await deps.db.occurrence.findUniqueOrThrow({
    where: { id: occurrenceId },
    include: { schedule: { include: { targets: true } } },
  });
  const { schedule } = occurrence;
  if (!schedule.relayUrl) throw new Error(`schedule ${schedule.id} is not a relay`);
  const now = (deps.now ?? Date.now)();
  const windowS = Math.ceil((occurrence.endsAt.getTime() - now) / 1000);
  const broadcast = await openLiveSession(
    // Dead air is the relay's to handle (fallback, retries) until the window ends, not a reason to end.
    { ...deps, idleEndS: Math.max(deps.idleEndS ?? 0, windowS + 60) },
    'system',
    {
      kind: 'relay',
      sessionId: occurrence.id,
      occurrenceId: occurrence.id,
      relayUrl: schedule.relayUrl,
      title: schedule.title,
      priority: schedule.priority,
      areaIds: schedule.targets.flatMap((t) => (t.areaId ? [t.areaId] : [])),
      receiverIds: schedule.targets.flatMap((t) => (t.receiverId ? [t.receiverId] : [])),
      volume: schedule.volume,
      prelude: schedule.prelude === 'chime' ? 'chime' : 'none',
      ...(schedule.languages[0] ? { language: schedule.languages[0] } : {}),
      createdById: schedule.createdById,
    },
  );
  try {
    return new RelaySession(deps, broadcast, {
      occurrenceId: occurrence.id,
      scheduleId: schedule.id,
      url: schedule.relayUrl,
      endsAt: occurrence.endsAt.getTime(),
      deadAirMs: (schedule.deadAirS ?? DEFAULT_DEAD_AIR_S) * 1000,
      settings: { ...DEFAULT_RELAY_SETTINGS, ...settings },
    });
  } catch (error) {
    // The session is open on the receivers: close it rather than leave them waiting for the heartbeat.
    await broadcast.end('relay_failed').catch(() => {});
    throw error;
  }
}

/**
 * A radio stream relayed as a live session: ffmpeg pulls it (connecting during the
 * prelude), its PCM goes to the broadcast once on air. When it turns to dead air the
 * schedule's content loops in its place (LiveSession.fallbacks +1) and the stream is
 * tried again every retryS; a retry that delivers resumeSoundMs of sound takes over at
 * once. At the end of the window the session ends ('relay_window_end'). Nothing here
 * throws into the caller: failures are logged and end in dead air or the fallback.
 */
export class RelaySession {
  readonly id: string;
  readonly scheduleId: string;
  readonly url: string;
  readonly endsAt: number;
  /** Resolves with the reason once the relay is over (pulls stopped, live session ended), however it ended. */
  readonly done: Promise<string>;
  #markDone: (reason: string) => void = () => {};
  readonly #deps: RelayDeps;
  readonly #broadcast: LiveBroadcast;
  readonly #deadAirMs: number;
  readonly #settings: RelaySettings;
  readonly #now: () => number;
  readonly #log: NonNullable<LiveDeps['log']>;
  #mode: RelayMode = 'stream';
  #main: Attempt | undefined;
  #probe: Attempt | undefined;
  #nextRetryAt = 0;
  #fallback: FallbackPlayer | undefined;
  #fallbacks = 0;
  #stopping: Promise<string> | undefined;
  readonly #timers: { check: NodeJS.Timeout; end: NodeJS.Timeout };

  constructor(
    deps: RelayDeps,
    broadcast: LiveBroadcast,
    init: {
      occurrenceId: string;
      scheduleId: string;
      url: string;
      endsAt: number;
      deadAirMs: number;
      settings: RelaySettings;
    },
  ) {
    this.#deps = deps;
    this.#broadcast = broadcast;
    this.id = init.occurrenceId;
    this.scheduleId = init.scheduleId;
    this.url = init.url;
    this.endsAt = init.endsAt;
    this.#deadAirMs = init.deadAirMs;
    this.#settings = init.settings;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.log ?? (() => {});
    // Connecting takes a moment: the stream is pulled while the receivers sound the prelude.
    this.#main = this.#pull();
    this.#timers = {
      check: setInterval(() => this.#check(), CHECK_MS),
      end: setTimeout(() => void this.stop('relay_window_end'), Math.max(0, this.endsAt - this.#now())),
    };
    this.done = new Promise((resolve) => {
      this.#markDone = resolve;
    });
    // Ended elsewhere (stopped by a person, on another instance): the pulls stop too.
    void broadcast.ended.then((reason) => this.stop(reason));
    void broadcast.onAir.then(() => {
      if (this.#mode !== 'ended') this.#log('relay on air', { sessionId: this.id, url: this.url });
    });
  }

  get mode(): RelayMode {
    return this.#mode;
  }

  /** Times the relay fell back to its content (also counted in LiveSession.fallbacks). */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  stats() {
    return { ...this.#broadcast.stats(), fallbacks: this.#fallbacks, mode: this.#mode };
  }

  /** Ends the relay: the pulls and the fallback stop, then the live session ends with `reason`. Idempotent. */
  stop(reason: string): Promise<string> {
    this.#stopping ??= this.#finish(reason);
    return this.#stopping;
  }

  async #finish(reason: string): Promise<string> {
    this.#mode = 'ended';
    clearInterval(this.#timers.check);
    clearTimeout(this.#timers.end);
    this.#fallback?.stop();
    this.#fallback = undefined;
    const attempts = [this.#main, this.#probe].filter((a): a is Attempt => a !== undefined);
    this.#main = undefined;
    this.#probe = undefined;
    await Promise.all(attempts.map((a) => a.source.stop()));
    try {
      await this.#broadcast.end(reason);
    } catch (error) {
      this.#log('relay session did not end cleanly', { sessionId: this.id, reason, error: String(error) });
    }
    this.#log('relay ended', { sessionId: this.id, reason, fallbacks: this.#fallbacks, ...this.#broadcast.stats() });
    this.#markDone(reason);
    return reason;
  }

  /** Starts ffmpeg on the stream; its PCM goes on air only while it is the main pull and the relay airs the stream. */
  #pull(): Attempt {
    const startedAt = this.#now();
    const attempt: Attempt = {
      startedAt,
      // Dead air is counted from on air at the earliest: the prelude is no silence of the stream's.
      detector: new DeadAirDetector(
        {
          deadAirMs: this.#deadAirMs,
          ...(this.#settings.silenceDbfs === undefined ? {} : { silenceDbfs: this.#settings.silenceDbfs }),
        },
        Math.max(startedAt, this.#broadcast.onAirAt),
      ),
      source: new RelaySource({
        url: this.url,
        ffmpegPath: this.#settings.ffmpegPath,
        timeoutMs: this.#settings.timeoutS * 1000,
        now: this.#now,
        onPcm: (samples, at) => {
          attempt.detector.feed(samples, at);
          if (this.#mode === 'stream' && this.#main === attempt)
            this.#air(samples, at - (samples.length * 1000) / PIPELINE_RATE + RELAY_LEAD_MS);
        },
        onExit: (exit) => {
          if (exit.stopped) return;
          attempt.detector.end(this.#now(), exit.detail);
          this.#check();
        },
      }),
    };
    return attempt;
  }

  #check(): void {
    if (this.#mode === 'ended') return;
    const now = this.#now();
    if (this.#mode === 'stream') {
      if (now < this.#broadcast.onAirAt || !this.#main) return;
      const verdict = this.#main.detector.check(now);
      if (verdict.dead) this.#toFallback(verdict, now);
      return;
    }
    if (this.#probe) {
      const probe = this.#probe;
      if (probe.detector.soundMs >= this.#settings.resumeSoundMs) {
        this.#toStream(probe, now);
        return;
      }
      const verdict = probe.detector.check(now);
      if (verdict.dead) {
        this.#probe = undefined;
        this.#nextRetryAt = now + this.#settings.retryS * 1000;
        this.#log('relay retry failed; the fallback continues', {
          sessionId: this.id,
          reason: verdict.reason,
          detail: verdict.detail,
          nextRetryInS: this.#settings.retryS,
        });
        void probe.source.stop();
      }
      return;
    }
    if (now >= this.#nextRetryAt) {
      this.#log('relay retrying the stream', { sessionId: this.id, url: this.url });
      this.#probe = this.#pull();
    }
  }

  #toFallback(verdict: Extract<AirCheck, { dead: true }>, now: number): void {
    this.#mode = 'fallback';
    this.#fallbacks++;
    this.#nextRetryAt = now + this.#settings.retryS * 1000;
    const dead = this.#main;
    this.#main = undefined;
    if (dead) void dead.source.stop();
    this.#log('relay dead air: airing the fallback', {
      sessionId: this.id,
      reason: verdict.reason,
      detail: verdict.detail,
      fallbacks: this.#fallbacks,
      retryInS: this.#settings.retryS,
    });
    void this.#deps.db.liveSession
      .update({ where: { id: this.id }, data: { fallbacks: { increment: 1 } } })
      .catch((error: unknown) =>
        this.#log('relay fallback count not saved', { sessionId: this.id, error: String(error) }),
      );
    void this.#startFallback().catch((error: unknown) =>
      this.#log('relay fallback could not be aired: dead air until the stream returns', {
        sessionId: this.id,
        error: String(error),
      }),
    );
  }

  async #startFallback(): Promise<void> {
    const choice = await chooseFallback(this.#deps.db, this.scheduleId);
    if (!choice) {
      this.#log('relay has no fallback audio (the content has none yet): dead air until the stream returns', {
        sessionId: this.id,
      });
      return;
    }
    const bytes = await readAsset(this.#deps.assets, choice.sha256);
    const pcm = new LoopingPcm(bytes, {
      onError: (error) =>
        this.#log('relay fallback audio stopped decoding', { sessionId: this.id, error: error.message }),
    });
    await pcm.prime();
    // The stream may have come back (or the window ended) while the file was read.
    if (this.#mode !== 'fallback' || this.#fallback) {
      pcm.close();
      return;
    }
    this.#fallback = new FallbackPlayer(pcm, (samples, ts) => this.#air(samples, ts), { now: this.#now });
    // Right after the stream's last audio when that is recent (the pacer catches up at once), else now.
    this.#fallback.start(this.#broadcast.placement(this.#now() + RELAY_LEAD_MS));
    this.#log('relay fallback on air', { sessionId: this.id, language: choice.language, sha256: choice.sha256 });
  }

  /** Puts audio on air (the live encoder keeps one timeline across stream and fallback); nothing before on air. */
  #air(samples: Float32Array, wanted: number): void {
    if (wanted < this.#broadcast.onAirAt) return;
    this.#broadcast.pushPcm(samples, wanted);
  }

  #toStream(probe: Attempt, now: number): void {
    this.#fallback?.stop();
    this.#fallback = undefined;
    this.#probe = undefined;
    this.#main = probe;
    this.#mode = 'stream';
    this.#log('relay stream back on air', {
      sessionId: this.id,
      afterS: Math.round((now - probe.startedAt) / 100) / 10,
    });
  }
}
