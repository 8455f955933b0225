import { api } from '../api/client.ts';
import { ApiError, errorMessage, must } from '../api/problem.ts';
import type { paths } from '../api/schema';
import { AudioLink, type LinkEvent, type LinkStats } from './audio-link.ts';
import { type Level, Microphone, MicrophoneError, type MicrophoneProblem } from './microphone.ts';

export type LiveSession = paths['/live/sessions/{id}']['get']['responses'][200]['content']['application/json'];
export type OpenSessionBody = NonNullable<
  paths['/live/sessions']['post']['requestBody']
>['content']['application/json'];
type OpenedSession = paths['/live/sessions']['post']['responses'][201]['content']['application/json'];

/** connecting → waiting for on-air (the chime) → on air → ending → ended. */
export type Phase = 'idle' | 'opening' | 'connecting' | 'waiting' | 'on_air' | 'ending' | 'ended';
export type MicState = 'off' | 'opening' | 'on';

export interface Conflict {
  id: string;
  title: string;
  state: string;
}

export type SpeakerProblem =
  | { kind: 'microphone'; problem: MicrophoneProblem; detail: string }
  /** The controller refused to open the session (403, 404, 409, 422, 503…). */
  | { kind: 'refused'; status: number; detail: string; conflict?: Conflict }
  /** The audio socket could not be set up (refused before the upgrade, or the format). */
  | { kind: 'socket_refused'; detail: string }
  /** The audio socket dropped while speaking; the controller ends the session. */
  | { kind: 'socket_lost'; code: number; reason: string }
  | { kind: 'controller_error'; code: number; reason: string }
  | { kind: 'microphone_lost' }
  | { kind: 'failed'; detail: string };

export interface SpeakerState {
  phase: Phase;
  mic: MicState;
  /** The session as opened; once ended, as the controller finally accounts for it. */
  session?: LiveSession;
  /** Local clock estimate of the on-air moment (for the countdown; `on_air` is what counts). */
  onAirAtLocal?: number;
  /** Local time the controller said on air. */
  onAirSince?: number;
  stats?: LinkStats;
  /** Audio is piling up in the browser: the uplink is slower than speech. */
  slowLink: boolean;
  problem?: SpeakerProblem;
  /** Released before the session opened (an accidental tap, or the permission prompt): nothing went out. */
  releasedEarly?: boolean;
  /** Who ended it: the speaker (released/stopped), or the controller (stopped by someone else, idle…). */
  endedBy?: 'speaker' | 'controller' | 'lost';
}

const ACTIVE: readonly Phase[] = ['opening', 'connecting', 'waiting', 'on_air', 'ending'];
/** After the release, the last words still in the capture pipeline go out before hanging up. */
const TAIL_MS = 250;
/** Waiting for the socket's close after hanging up; past this the page goes on without it. */
const CLOSE_WAIT_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function refusal(error: unknown): SpeakerProblem {
  if (error instanceof ApiError) {
    const session = error.problem.session as Partial<Conflict> | undefined;
    const conflict =
      error.status === 409 && session?.id
        ? { id: session.id, title: String(session.title ?? ''), state: String(session.state ?? '') }
        : undefined;
    return { kind: 'refused', status: error.status, detail: error.message, ...(conflict ? { conflict } : {}) };
  }
  return { kind: 'failed', detail: errorMessage(error) };
}

function microphoneProblem(error: unknown): SpeakerProblem {
  return error instanceof MicrophoneError
    ? { kind: 'microphone', problem: error.problem, detail: error.message }
    : { kind: 'failed', detail: errorMessage(error) };
}

/**
 * One speaker's live speech, outside React (the hold/release timing is all asynchronous):
 * opens the microphone, the session (POST /live/sessions) and its audio socket, sends the
 * audio from the on-air moment, and on release hangs up, closes the microphone and waits
 * for the controller's final account. The page reads it with useSyncExternalStore.
 */
export class LiveSpeaker {
  #state: SpeakerState = { phase: 'idle', mic: 'off', slowLink: false };
  readonly #listeners = new Set<() => void>();
  readonly #levelListeners = new Set<(level: Level) => void>();
  #mic: Microphone | undefined;
  #micOpening: Promise<Microphone> | undefined;
  /** The microphone was opened to test it: a failed press leaves it on. */
  #testing = false;
  #link: AudioLink | undefined;
  #sessionId: string | undefined;
  #wantStop = false;
  #finishing = false;
  /** One per press: timers and socket events of an earlier session must not touch this one. */
  #round = 0;
  /** The controller accepted the audio format: hanging up ends the session by itself. */
  #accepted = false;
  #disposed = false;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
  getSnapshot = (): SpeakerState => this.#state;

  /** The meter's feed, about 20 times a second while the microphone is open. */
  onLevel(listener: (level: Level) => void): () => void {
    this.#levelListeners.add(listener);
    return () => this.#levelListeners.delete(listener);
  }

  get active(): boolean {
    return ACTIVE.includes(this.#state.phase);
  }

  #set(patch: Partial<SpeakerState>): void {
    if (this.#disposed) return;
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }

  #ensureMicrophone(): Promise<Microphone> {
    if (this.#mic) return Promise.resolve(this.#mic);
    if (!this.#micOpening) {
      this.#set({ mic: 'opening' });
      this.#micOpening = Microphone.open({
        onChunk: (samples) => this.#chunk(samples),
        onLevel: (level) => {
          for (const listener of this.#levelListeners) listener(level);
        },
        onEnded: () => this.#microphoneLost(),
      })
        .then(
          (mic) => {
            if (this.#disposed) {
              mic.close();
              throw new Error('the page was closed');
            }
            this.#mic = mic;
            this.#set({ mic: 'on' });
            return mic;
          },
          (error: unknown) => {
            this.#set({ mic: 'off' });
            throw error;
          },
        )
        .finally(() => {
          this.#micOpening = undefined;
        });
    }
    return this.#micOpening;
  }

  #closeMicrophone(): void {
    this.#mic?.close();
    this.#mic = undefined;
    this.#testing = false;
    this.#set({ mic: 'off' });
    for (const listener of this.#levelListeners) listener({ rms: 0, peak: 0 });
  }

  /** Opens the microphone only, so the speaker can watch the meter before going on air. */
  async testMicrophone(): Promise<void> {
    this.#testing = true;
    this.#set({ problem: undefined, releasedEarly: false });
    try {
      await this.#ensureMicrophone();
    } catch (error) {
      this.#testing = false;
      this.#set({ problem: microphoneProblem(error) });
    }
  }

  closeMicrophone(): void {
    if (!this.active) this.#closeMicrophone();
  }

  /**
   * Starts speaking: the microphone, then (once the press has lasted `holdMs`, so a tap
   * does not sound the chime in every village) the session and its audio socket.
   */
  async press(body: OpenSessionBody, holdMs = 0): Promise<void> {
    if (this.active) return;
    const pressedAt = Date.now();
    const round = ++this.#round;
    this.#wantStop = false;
    this.#accepted = false;
    this.#finishing = false;
    this.#sessionId = undefined;
    this.#set({
      phase: 'opening',
      problem: undefined,
      releasedEarly: false,
      session: undefined,
      stats: undefined,
      onAirAtLocal: undefined,
      onAirSince: undefined,
      slowLink: false,
      endedBy: undefined,
    });
    let mic: Microphone;
    try {
      mic = await this.#ensureMicrophone();
    } catch (error) {
      this.#set({ phase: 'idle', problem: microphoneProblem(error) });
      return;
    }
    const held = Date.now() - pressedAt;
    if (!this.#wantStop && held < holdMs) await sleep(holdMs - held);
    if (this.#wantStop || this.#disposed) {
      // Nothing went out; the microphone stays on as a test, the meter showing it works.
      this.#testing = true;
      this.#set({ phase: 'idle', releasedEarly: true });
      return;
    }
    const askedAt = Date.now();
    let opened: OpenedSession;
    try {
      opened = await this.open(body);
    } catch (error) {
      if (!this.#testing) this.#closeMicrophone();
      this.#set({ phase: 'idle', problem: refusal(error) });
      return;
    }
    const { session } = opened;
    this.#sessionId = session.id;
    // The controller's on-air moment in its own clock; the lead it chose is what the countdown needs.
    const lead = Date.parse(opened.onAirAt) - Date.parse(session.openedAt);
    this.#set({ phase: 'connecting', session, onAirAtLocal: Math.max(Date.now(), askedAt + lead) });
    if (this.#wantStop || this.#disposed) {
      void this.#finish('speaker');
      return;
    }
    this.#link = new AudioLink(opened.audioUrl, mic.sampleRate, (event) => {
      if (round === this.#round) this.#onLink(event);
    });
  }

  open(body: OpenSessionBody): Promise<OpenedSession> {
    return must(api.POST('/live/sessions', { body }));
  }

  /** Stops speaking (the button released, or clicked again in toggle mode). */
  release(): void {
    this.#wantStop = true;
    const { phase } = this.#state;
    if (phase === 'on_air') {
      this.#set({ phase: 'ending', endedBy: 'speaker' });
      const round = this.#round;
      setTimeout(() => {
        if (round === this.#round) this.#hangUp();
      }, TAIL_MS);
    } else if (phase === 'connecting' || phase === 'waiting') {
      this.#set({ phase: 'ending', endedBy: 'speaker' });
      this.#hangUp();
    }
    // 'opening': press() sees #wantStop once its step is done.
  }

  #hangUp(): void {
    const link = this.#link;
    if (!link) return void this.#finish('speaker');
    link.hangUp();
    // The close normally comes within milliseconds; a dead link must not hold the page.
    const round = this.#round;
    setTimeout(() => {
      if (round === this.#round) void this.#finish('speaker');
    }, CLOSE_WAIT_MS);
  }

  #chunk(samples: Float32Array): void {
    const { phase } = this.#state;
    // Only from the on-air moment (the controller drops what comes earlier); the tail after release too.
    if (!this.#link || !(phase === 'on_air' || (phase === 'ending' && this.#state.onAirSince))) return;
    this.#link.send(samples);
    const slow = this.#link.slow;
    if (slow !== this.#state.slowLink) this.#set({ slowLink: slow });
  }

  #onLink(event: LinkEvent): void {
    switch (event.type) {
      case 'accepted':
        this.#accepted = true;
        if (this.#wantStop) this.#hangUp();
        else if (this.#state.phase === 'connecting') this.#set({ phase: 'waiting' });
        return;
      case 'on_air':
        if (this.#state.phase === 'waiting') this.#set({ phase: 'on_air', onAirSince: Date.now() });
        else if (this.#state.phase === 'ending') this.#set({ onAirSince: Date.now() });
        return;
      case 'stats':
        this.#set({ stats: event.stats });
        return;
      case 'ended':
        if (!this.#wantStop) this.#set({ endedBy: 'controller' });
        return;
      case 'error':
        this.#set({ problem: { kind: 'controller_error', code: event.code, reason: event.reason } });
        return;
      case 'closed':
        if (!event.expected && !this.#finishing) {
          if (event.wasAccepted)
            this.#set({ problem: { kind: 'socket_lost', code: event.code, reason: event.reason }, endedBy: 'lost' });
          else void this.#explainRefusedSocket();
        }
        void this.#finish(this.#state.endedBy ?? 'speaker');
        return;
    }
  }

  /** A socket refused before the upgrade says nothing to the page; the session's state says why. */
  async #explainRefusedSocket(): Promise<void> {
    if (this.#state.problem) return;
    const id = this.#sessionId;
    let detail = '';
    if (id) {
      const { data } = await api.GET('/live/sessions/{id}', { params: { path: { id } } });
      if (data && (data.state === 'ended' || data.state === 'failed')) detail = data.endReason ?? data.state;
    }
    this.#set({ problem: { kind: 'socket_refused', detail } });
  }

  #microphoneLost(): void {
    if (this.active) {
      this.#set({ problem: { kind: 'microphone_lost' } });
      this.release();
    } else this.#closeMicrophone();
  }

  /** The microphone off, the session ended for sure, and the controller's account of it. */
  async #finish(endedBy: NonNullable<SpeakerState['endedBy']>): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#link?.hangUp();
    this.#link = undefined;
    this.#closeMicrophone();
    this.#set({ phase: 'ending', endedBy: this.#state.endedBy ?? endedBy, slowLink: false });
    const id = this.#sessionId;
    if (!id) return this.#set({ phase: 'idle' });
    let session = this.#state.session;
    let stopAsked = false;
    const started = Date.now();
    while (Date.now() - started < 10_000 && !this.#disposed) {
      const { data } = await api.GET('/live/sessions/{id}', { params: { path: { id } } });
      if (data) session = data;
      if (data && (data.state === 'ended' || data.state === 'failed')) break;
      // A socket that never got its format accepted leaves the session open: stop it outright
      // (and any session the controller has not closed a few seconds after the hang-up).
      if (!stopAsked && (!this.#accepted || Date.now() - started > 5000)) {
        stopAsked = true;
        await api.POST('/live/sessions/{id}/stop', { params: { path: { id } }, body: {} });
      }
      await sleep(250);
    }
    this.#set({ phase: 'ended', ...(session ? { session } : {}) });
  }

  /** The page goes away: nothing may keep the villages' loudspeakers or the microphone. */
  dispose(): void {
    const id = this.#sessionId;
    const open = this.active && id !== undefined && !this.#finishing;
    const accepted = this.#accepted;
    this.#link?.hangUp();
    this.#closeMicrophone();
    this.#disposed = true;
    // Hanging up an accepted socket ends the session; otherwise it must be stopped outright.
    if (open && !accepted)
      void fetch(`/live/sessions/${id}/stop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
        keepalive: true,
      }).catch(() => {});
  }
}
