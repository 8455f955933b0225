import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import { forbidden, notFound, Problem, unauthorized } from '../http/problem.js';
import { loadLiveSession, maySpeak } from './live-access.js';
import { type AudioIntake, AudioRefused, audioIntake, parseFormat } from './live-audio-format.js';
import { type LiveBroadcast, type LiveDeps, localBroadcast } from './live-broadcast.js';
import { IdParams } from './live-view.js';

/** A speaker who connects but says nothing is let go after this long. */
const FORMAT_TIMEOUT_MS = 10_000;
const STATS_EVERY_MS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sessions with a speaker connected (one each). */
const speaking = new Set<string>();

/** A close reason fits in 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

const send = (socket: WebSocket, message: object) => {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
};

/**
 * GET /live/sessions/:id/audio (WebSocket): the speaker's audio in. The first message
 * (text) names the format; the server answers `accepted`, then `on_air` at the on-air
 * moment and `stats` every second; binary messages are audio (PCM chunks, or one Opus
 * frame each). Closing the socket ends the session. See controller/README.md, "Live speech".
 */
export const liveAudioSocket: FastifyPluginAsyncTypebox<LiveDeps> = async (app, deps) => {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});

  app.get(
    '/live/sessions/:id/audio',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        summary: 'WebSocket: the speaker’s audio for a live session (its creator, or an admin over it)',
        params: IdParams,
      },
      // Refusals are plain HTTP answers before the upgrade, so a client sees 401/403/404/409 and why.
      preValidation: async (request) => {
        const principal = request.principal;
        if (!principal) throw unauthorized();
        const { id } = request.params as { id: string };
        // Hooks run before the params are validated; the id column is a uuid.
        if (!UUID.test(id)) throw notFound(`no live session ${id}`);
        const { row, paths } = await loadLiveSession(db, id, principal);
        if (!maySpeak(principal, row, paths))
          throw forbidden(
            'only the one who opened the session, or an admin over everything it reaches, may speak on it',
          );
        if (row.state === 'ended' || row.state === 'failed')
          throw new Problem(
            409,
            'Conflict',
            `the live session ${row.state === 'ended' ? 'ended' : 'failed'} (${row.endReason ?? 'no reason given'}); open a new one`,
          );
        if (!localBroadcast(id))
          throw new Problem(
            409,
            'Conflict',
            'the session is held by another controller instance; connect to the instance that opened it (sticky sessions)',
          );
        if (speaking.has(id)) throw new Problem(409, 'Conflict', 'a speaker is already connected to this session');
      },
    },
    (socket, request) => {
      const { id } = request.params as { id: string };
      const broadcast = localBroadcast(id);
      if (!broadcast || broadcast.state === 'ending') return socket.close(1008, 'the session is not open here');
      if (speaking.has(id)) return socket.close(1008, 'a speaker is already connected to this session');
      speaking.add(id);
      new Speaker(socket, broadcast, now, log, () => speaking.delete(id));
    },
  );
};

/** One connected speaker: the format handshake, then audio into the broadcast. */
class Speaker {
  #intake: AudioIntake | undefined;
  #accepted = false;
  #queue: Promise<void> = Promise.resolve();
  #received = 0;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    readonly socket: WebSocket,
    readonly broadcast: LiveBroadcast,
    readonly now: () => number,
    readonly log: (msg: string, detail?: Record<string, unknown>) => void,
    /** Frees the session for another speaker (at once on a refusal, not when the close handshake ends). */
    readonly release: () => void,
  ) {
    this.#timers.push(
      setTimeout(() => {
        if (!this.#intake)
          this.#refuse(new AudioRefused(1008, `no format message within ${FORMAT_TIMEOUT_MS / 1000} s`));
      }, FORMAT_TIMEOUT_MS),
    );
    socket.on('message', (data, isBinary) => {
      const arrivedAt = now();
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      // In order: the format's resampler is made asynchronously, and audio must wait for it.
      this.#queue = this.#queue
        .then(() => this.#message(bytes, isBinary, arrivedAt))
        .catch((error: unknown) => {
          this.#refuse(error instanceof AudioRefused ? error : new AudioRefused(1011, 'internal error'));
          if (!(error instanceof AudioRefused))
            log('live audio socket failed', { sessionId: broadcast.id, error: String(error) });
        });
    });
    socket.on('close', () => this.#closed());
    void broadcast.ended.then((reason) => {
      send(socket, { type: 'ended', reason });
      socket.close(1000, closeReason(reason));
    });
  }

  async #message(data: Buffer, isBinary: boolean, arrivedAt: number): Promise<void> {
    if (!this.#intake) {
      if (isBinary) throw new AudioRefused(1008, 'send the format (a JSON text message) before any audio');
      const format = parseFormat(data.toString('utf8'));
      this.#intake = await audioIntake(format);
      this.#accepted = true;
      send(this.socket, { type: 'accepted', sessionId: this.broadcast.id, onAirAt: this.broadcast.onAirAt, format });
      void this.broadcast.onAir.then(() => {
        if (this.broadcast.state === 'on_air') send(this.socket, { type: 'on_air', at: this.broadcast.onAirAt });
      });
      this.#timers.push(setInterval(() => this.#stats(), STATS_EVERY_MS));
      return;
    }
    if (!isBinary) throw new AudioRefused(1003, 'after the format message, send audio as binary messages only');
    const intake = this.#intake;
    if (intake.kind === 'opus') {
      this.broadcast.pushOpusFrame(intake.check(data), arrivedAt - 20);
      this.#received += 20;
      return;
    }
    const ms = intake.inputMs(data.length);
    this.broadcast.pushPcm(intake.toPcm(data), arrivedAt - ms);
    this.#received += ms;
  }

  #stats(): void {
    send(this.socket, {
      type: 'stats',
      state: this.broadcast.state,
      receivedSeconds: Math.round(this.#received) / 1000,
      ...this.broadcast.stats(),
    });
  }

  #refuse(error: AudioRefused): void {
    this.release();
    send(this.socket, { type: 'error', code: error.code, reason: error.message });
    this.socket.close(error.code, closeReason(error.message));
  }

  #closed(): void {
    this.release();
    for (const timer of this.#timers) clearTimeout(timer);
    // A refused handshake leaves the session open (the speaker may try again); hanging up ends it.
    if (this.#accepted && this.broadcast.state !== 'ending')
      void this.broadcast
        .end('speaker_closed')
        .catch((error: unknown) =>
          this.log('live session did not end cleanly', { sessionId: this.broadcast.id, error: String(error) }),
        );
  }
}
