// The speaking side of the live-latency benchmark: a client that does what the browser
// does (open a session, connect the audio WebSocket, wait for on air, send 20 ms chunks of
// 16-bit PCM in real time) and notes when it captured each chunk, so the benchmark can
// measure capture → speaker on the client's side and check the controller's captureTs.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

export const CHUNK_MS = 20;

export interface PushedSession {
  sessionId: string;
  onAirAt: number;
  /** True time (Date.now) each chunk's first sample was captured: when it was sent, less its 20 ms. */
  capturedAt: number[];
  /** The controller's last stats message. */
  stats: Record<string, unknown> | undefined;
}

interface Api {
  url: string;
  token: string;
}

async function call<T>(api: Api, method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
  const response = await fetch(new URL(path, api.url), {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * Opens a live session on `areaIds` and speaks `samples` (48 kHz mono) into it in real
 * time, paced against the start (timer lateness does not add up); hangs up at the end,
 * which ends the session. Resolves once the socket has closed.
 */
export async function pushLive(
  api: Api,
  options: { areaIds: string[]; title: string; latencyMs: number; samples: Int16Array },
): Promise<PushedSession> {
  const opened = await call<{ session: { id: string }; audioUrl: string; onAirAt: string }>(
    api,
    'POST',
    '/live/sessions',
    { title: options.title, areaIds: options.areaIds, latencyMs: options.latencyMs },
  );
  const sessionId = opened.session.id;
  const url = new URL(opened.audioUrl, api.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${api.token}` } });
  let failure: Error | undefined;
  let stats: Record<string, unknown> | undefined;
  const seen = new Map<string, () => void>();
  const arrived = new Set<string>();
  const waitFor = (type: string, timeoutMs: number) =>
    arrived.has(type)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(failure ?? new Error(`no "${type}" within ${timeoutMs} ms`)),
            timeoutMs,
          );
          seen.set(type, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  let hungUp = false;
  const closed = new Promise<void>((resolve) => {
    socket.on('close', (code, reason) => {
      if (!hungUp && code !== 1000) failure ??= new Error(`the audio socket closed (${code} ${reason.toString()})`);
      resolve();
    });
  });
  const mark = (type: string) => {
    arrived.add(type);
    seen.get(type)?.();
  };
  socket.on('open', () => mark('open'));
  socket.on('error', (error) => {
    failure ??= new Error(`audio socket: ${error.message}`);
  });
  socket.on('unexpected-response', (_request, response) => {
    failure ??= new Error(`the audio socket was refused: HTTP ${response.statusCode}`);
    socket.terminate();
  });
  socket.on('message', (data, binary) => {
    if (binary) return;
    const message = JSON.parse(data.toString()) as { type: string; reason?: string };
    if (message.type === 'stats') stats = message;
    if (message.type === 'error' || (message.type === 'ended' && !hungUp))
      failure ??= new Error(`the controller ended the audio: ${message.reason ?? message.type}`);
    mark(message.type);
  });
  await waitFor('open', 10_000);
  socket.send(JSON.stringify({ format: 's16le', sampleRate: 48_000, channels: 1 }));
  await waitFor('accepted', 10_000);
  await waitFor('on_air', 10_000);
  const chunk = (48_000 * CHUNK_MS) / 1000;
  const capturedAt: number[] = [];
  const started = performance.now();
  for (let at = 0, k = 0; at < options.samples.length; at += chunk, k++) {
    if (failure) throw failure;
    const wait = started + (k + 1) * CHUNK_MS - performance.now();
    if (wait > 0) await sleep(wait);
    const part = options.samples.subarray(at, Math.min(options.samples.length, at + chunk));
    // A microphone hands over a chunk once it has captured it: its first sample is 20 ms old.
    capturedAt.push(Date.now() - CHUNK_MS);
    socket.send(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
  }
  hungUp = true;
  socket.close(1000, 'done');
  await closed;
  if (failure) throw failure;
  return { sessionId, onAirAt: Date.parse(opened.onAirAt), capturedAt, stats };
}
