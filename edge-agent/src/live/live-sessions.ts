import { type CommandBody, type PlayableItem, parseTopic, type TrustedKeySet, topics } from '@loa/protocols';
import type { Clock } from '../hardware/seams.js';
import type { PlayReport } from '../playback/play-report.js';
import { LiveSession } from './live-session.js';

/** How the renderer finds the session of a live item (its itemId is the session id). */
export interface LiveSessionLookup {
  get(sessionId: string): LiveSession | undefined;
}

export interface LiveSessionsOptions {
  clock: Clock;
  controllerTime: () => number;
  /** The keys live packets must be signed with (the agent's trusted controller keys). */
  keys: TrustedKeySet;
  /** The link: the session's audio topic is subscribed while the session lasts. */
  subscribe: (topic: string) => Promise<void>;
  unsubscribe: (topic: string) => Promise<void>;
  /** Hands the live item to the playback engine (source 'live'); false if the engine refuses it. */
  submit: (item: PlayableItem) => boolean;
  /** Takes a live item that has not started yet off the engine's queue. */
  withdraw: (itemId: string) => void;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** The live item of a session: it is played by the live renderer, which needs no segments. */
export function liveItem(body: CommandBody<'live.start'>): PlayableItem {
  return {
    itemId: body.sessionId,
    title: 'live',
    priority: body.priority,
    startMode: 'hard',
    volume: body.volume,
    repeat: 1,
    prelude: body.prelude,
    ...(body.preludeSha256 ? { preludeSha256: body.preludeSha256 } : {}),
    segments: [],
  };
}

/**
 * The receiver's live sessions: live.start opens one (its audio topic subscribed, its item
 * queued at its priority, so an emergency still goes first), live.stop lets it play out
 * what it has, packets from the audio topics go to their session, and a session whose
 * item has ended, however it ended, is unsubscribed and forgotten (`ended`).
 */
export class LiveSessions implements LiveSessionLookup {
  readonly #sessions = new Map<string, LiveSession>();
  #closed = false;

  constructor(private readonly o: LiveSessionsOptions) {}

  get(sessionId: string): LiveSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** The sessions open now. */
  list(): LiveSession[] {
    return [...this.#sessions.values()];
  }

  /** live.start. A session already open is left as it is (the command was sent again). */
  async start(body: CommandBody<'live.start'>): Promise<void> {
    if (this.#closed || this.#sessions.has(body.sessionId)) return;
    const session = new LiveSession({
      body,
      keys: this.o.keys,
      clock: this.o.clock,
      controllerTime: this.o.controllerTime,
      onHeartbeatLost: (s) => {
        // A session still waiting for its turn has nothing to interrupt: it is taken off the queue.
        if (!s.rendering) this.o.withdraw(s.id);
      },
      ...(this.o.log ? { log: this.o.log } : {}),
    });
    this.#sessions.set(body.sessionId, session);
    // Queued first: the amplifier and the chime start while the subscription is made.
    if (!this.o.submit(liveItem(body))) {
      this.#forget(session);
      this.o.log?.('live session already played or queued; ignored', { sessionId: body.sessionId });
      return;
    }
    this.o.log?.('live session started', {
      sessionId: body.sessionId,
      priority: body.priority,
      latencyMs: body.latencyMs,
      frameMs: body.codec.frameMs,
    });
    try {
      await this.o.subscribe(topics.liveAudio(body.sessionId));
    } catch (error) {
      this.o.withdraw(body.sessionId);
      this.#forget(session);
      throw new Error(`cannot subscribe to the live audio of ${body.sessionId}: ${(error as Error).message ?? error}`);
    }
  }

  /** live.stop: what was received still plays (for a short while); a session not yet on air is withdrawn. */
  stop(body: CommandBody<'live.stop'>): void {
    const session = this.#sessions.get(body.sessionId);
    if (!session) return;
    this.o.log?.('live session stopping', { sessionId: body.sessionId, reason: body.reason ?? null });
    session.stop();
    if (!session.rendering) this.o.withdraw(session.id);
  }

  /** A message on a live audio topic. */
  receive(topic: string, payload: Uint8Array): void {
    const parsed = parseTopic(topic);
    if (parsed?.name !== 'liveAudio') return;
    const session = this.#sessions.get(parsed.sessionId);
    if (!session) return;
    session.receive(payload);
    // Everything there was to hear has come, and the item is not on air: nothing will play it.
    if (session.finishing && !session.rendering && session.buffer.drained) this.o.withdraw(session.id);
  }

  /** The engine's report for a live item: once it has ended, the session goes. */
  ended(report: Pick<PlayReport, 'itemId' | 'state' | 'reason'>): void {
    if (report.state === 'started') return;
    const session = this.#sessions.get(report.itemId);
    if (!session) return;
    this.o.log?.('live session ended', {
      sessionId: session.id,
      state: report.state,
      ...(report.reason ? { reason: report.reason } : {}),
      ...session.counters(),
    });
    this.#forget(session);
  }

  /** The agent stops: no more timers; subscriptions go with the link. */
  close(): void {
    this.#closed = true;
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  #forget(session: LiveSession): void {
    session.close();
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    this.o
      .unsubscribe(topics.liveAudio(session.id))
      .catch((error: unknown) =>
        this.o.log?.('live unsubscribe failed', { sessionId: session.id, error: String(error) }),
      );
  }
}
