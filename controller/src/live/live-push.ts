import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { resamplerTo48k } from '../audio/decoding/resample.js';
import { readWavMono } from './live-wav.js';

export interface PushOptions {
  file: string;
  /** Area ids, or area codes (looked up with GET /areas/{code}). */
  areas: string[];
  receivers?: string[];
  title?: string;
  url: string;
  token: string;
  latencyMs?: number;
  volume?: number;
  prelude?: 'none' | 'chime';
  language?: string;
}

export interface PushIo {
  out: (line: string) => void;
  /** Progress, overwritten in place on a terminal. */
  progress: (line: string) => void;
}

export interface PushResult {
  sessionId: string;
  state: string;
  endReason: string | null;
  counts: Record<string, number>;
}

/** A refusal or failure the CLI reports as one line, with exit status 1. */
export class PushError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHUNK_MS = 20;

/** What an HTTP error status means to someone pushing audio, and what to do. */
function explain(status: number, detail: string): string {
  switch (status) {
    case 401:
      return `the API token was refused (401): ${detail}; create one with POST /auth/tokens and pass it with --token or LOA_TOKEN`;
    case 403:
      return `not allowed (403): ${detail}`;
    case 404:
      return `not found (404): ${detail}`;
    case 409:
      return `refused (409): ${detail}`;
    case 422:
      return `nothing to speak to (422): ${detail}`;
    default:
      return `the controller answered ${status}: ${detail}`;
  }
}

class Api {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new PushError(
        `cannot reach the controller at ${this.base}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const problem = JSON.parse(text) as { detail?: string; title?: string };
        detail = problem.detail ?? problem.title ?? text;
      } catch {}
      throw new PushError(explain(response.status, detail));
    }
    return JSON.parse(text) as T;
  }
}

/**
 * Pushes a WAV file as live speech: opens the session over HTTP with the API token,
 * connects the audio WebSocket, waits for on air, sends 20 ms chunks paced in real time,
 * hangs up (which ends the session) and answers what the receivers reported.
 */
export async function pushWav(options: PushOptions, io: PushIo): Promise<PushResult> {
  const wav = await readWavMono(options.file).catch((error: Error) => {
    throw new PushError(error.message);
  });
  if (wav.sampleRate < 8000)
    throw new PushError(`${options.file} is sampled at ${wav.sampleRate} Hz; at least 8000 Hz is needed`);
  // The controller takes 8-48 kHz; higher rates are brought to 48 kHz here.
  let samples = wav.samples;
  let rate = wav.sampleRate;
  if (rate > 48_000) {
    samples = (await resamplerTo48k(rate))(samples);
    rate = 48_000;
  }
  const api = new Api(options.url, options.token);
  const areaIds = [];
  for (const area of options.areas)
    areaIds.push(
      UUID.test(area) ? area : (await api.call<{ id: string }>('GET', `/areas/${encodeURIComponent(area)}`)).id,
    );

  const opened = await api.call<{ session: { id: string }; audioUrl: string; onAirAt: string }>(
    'POST',
    '/live/sessions',
    {
      title: options.title ?? `Live: ${options.file.split('/').at(-1)}`,
      areaIds,
      ...(options.receivers?.length ? { receiverIds: options.receivers } : {}),
      ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
      ...(options.volume !== undefined ? { volume: options.volume } : {}),
      ...(options.prelude ? { prelude: options.prelude } : {}),
      ...(options.language ? { language: options.language } : {}),
    },
  );
  const sessionId = opened.session.id;
  io.out(`session ${sessionId} opened; on air at ${opened.onAirAt} (receivers sound the chime first)`);

  const socketUrl = new URL(opened.audioUrl, options.url);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(socketUrl, { headers: { authorization: `Bearer ${options.token}` } });
  const messages = serverMessages(socket);
  await messages.next('open');
  socket.send(JSON.stringify({ format: 's16le', sampleRate: rate, channels: 1 }));
  await messages.next('accepted');
  await messages.next('on_air');

  const chunk = Math.round((rate * CHUNK_MS) / 1000);
  const total = samples.length / rate;
  const started = performance.now();
  let shown = '';
  const show = (sent: number) => {
    const line = `sent ${sent.toFixed(1)} / ${total.toFixed(1)} s`;
    if (line !== shown) io.progress(line);
    shown = line;
  };
  let lastShown = -1;
  for (let at = 0, k = 0; at < samples.length; at += chunk, k++) {
    if (messages.failure) throw messages.failure;
    // Paced against the start, not the previous chunk, so timer lateness does not add up.
    const wait = started + k * CHUNK_MS - performance.now();
    if (wait > 0) await sleep(wait);
    socket.send(toS16(samples.subarray(at, Math.min(samples.length, at + chunk))));
    const sent = Math.min(total, (at + chunk) / rate);
    if (Math.floor(sent) !== lastShown) {
      lastShown = Math.floor(sent);
      show(sent);
    }
  }
  show(total);
  messages.hangUp();
  await messages.closed;

  // The session ends as the socket closes; receivers report finishing a moment later.
  let session = await api.call<{ state: string; endReason: string | null }>('GET', `/live/sessions/${sessionId}`);
  for (let i = 0; i < 50 && (session.state === 'opening' || session.state === 'on_air'); i++) {
    await sleep(100);
    session = await api.call('GET', `/live/sessions/${sessionId}`);
  }
  let deliveries = await api.call<{ counts: Record<string, number> }>('GET', `/live/sessions/${sessionId}/deliveries`);
  for (let i = 0; i < 20 && (deliveries.counts.started ?? 0) > 0; i++) {
    await sleep(100);
    deliveries = await api.call('GET', `/live/sessions/${sessionId}/deliveries`);
  }
  const summary = Object.entries(deliveries.counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  io.out(
    `session ${sessionId} ${session.state} (${session.endReason ?? 'no reason'}); receivers: ${summary || 'none'}`,
  );
  return { sessionId, state: session.state, endReason: session.endReason, counts: deliveries.counts };
}

function toS16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    out.writeInt16LE(s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32767), i * 2);
  }
  return out;
}

/** The server's messages in order, waited for by type; a refusal or a drop becomes a PushError. */
function serverMessages(socket: WebSocket) {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  let failure: PushError | undefined;
  let rejectAll: (error: PushError) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectAll = reject;
  });
  failed.catch(() => {});
  const fail = (error: PushError) => {
    failure ??= error;
    rejectAll(failure);
  };
  const mark = (type: string) => {
    seen.add(type);
    waiters.get(type)?.();
  };
  socket.on('open', () => mark('open'));
  socket.on('unexpected-response', (_request, response) => {
    let body = '';
    response.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    response.on('end', () => {
      let detail = body;
      try {
        detail = (JSON.parse(body) as { detail?: string }).detail ?? body;
      } catch {}
      fail(new PushError(explain(response.statusCode ?? 0, detail)));
    });
  });
  socket.on('error', (error) => fail(new PushError(`audio connection failed: ${error.message}`)));
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(data.toString()) as { type: string; reason?: string };
    if (message.type === 'error' || (message.type === 'ended' && !seen.has('closing')))
      fail(new PushError(`the controller ended the audio: ${message.reason ?? message.type}`));
    mark(message.type);
  });
  const closed = new Promise<void>((resolve) => {
    socket.on('close', (code, reason) => {
      if (!seen.has('closing') && code !== 1000)
        fail(new PushError(`the audio connection closed (${code}${reason.length ? `: ${reason}` : ''})`));
      resolve();
    });
  });
  return {
    /** Closes from our side: what follows (the session's end) is expected, not a failure. */
    hangUp: () => {
      seen.add('closing');
      socket.close(1000, 'done');
    },
    get failure() {
      return failure;
    },
    closed,
    next: (type: string) =>
      seen.has(type)
        ? Promise.resolve()
        : Promise.race([new Promise<void>((resolve) => waiters.set(type, resolve)), failed]),
  };
}
