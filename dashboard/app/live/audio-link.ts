/**
 * The speaker's side of the controller's audio WebSocket (`/live/sessions/{id}/audio`,
 * controller/README.md "The audio WebSocket"): the format first, then 16-bit PCM chunks;
 * the controller answers accepted, on_air, stats every second, ended or error. Closing
 * the socket after the format was accepted ends the session.
 */

export interface LinkStats {
  state: string;
  receivedSeconds: number;
  framesSent: number;
  packetsSent: number;
  droppedBeforeOnAir: number;
  keepAlives: number;
  publishFailures: number;
}

export type LinkEvent =
  | { type: 'accepted'; onAirAt: number }
  | { type: 'on_air'; at: number }
  | { type: 'stats'; stats: LinkStats }
  | { type: 'ended'; reason: string }
  | { type: 'error'; code: number; reason: string }
  /** The socket closed; `expected` when we hung up or the controller had said it ended. */
  | { type: 'closed'; code: number; reason: string; expected: boolean; wasAccepted: boolean };

/** Past this much audio waiting in the socket's buffer the uplink is too slow for speech. */
const SLOW_BUFFER_SECONDS = 1;

/** Float samples (−1…1) as little-endian 16-bit: half the bytes of f32le, all speech needs. */
export function toS16le(samples: Float32Array): ArrayBuffer {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    out.setInt16(i * 2, s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32767), true);
  }
  return out.buffer;
}

export class AudioLink {
  readonly #socket: WebSocket;
  readonly #sampleRate: number;
  #accepted = false;
  #hungUp = false;
  #endedByController = false;

  constructor(audioUrl: string, sampleRate: number, onEvent: (event: LinkEvent) => void) {
    this.#sampleRate = sampleRate;
    const url = new URL(audioUrl, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ format: 's16le', sampleRate, channels: 1 }));
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(message.data) as Record<string, unknown>;
      } catch {
        return;
      }
      switch (data.type) {
        case 'accepted':
          this.#accepted = true;
          onEvent({ type: 'accepted', onAirAt: Number(data.onAirAt) });
          break;
        case 'on_air':
          onEvent({ type: 'on_air', at: Number(data.at) });
          break;
        case 'stats':
          onEvent({ type: 'stats', stats: data as unknown as LinkStats });
          break;
        case 'ended':
          this.#endedByController = true;
          onEvent({ type: 'ended', reason: String(data.reason ?? '') });
          break;
        case 'error':
          onEvent({ type: 'error', code: Number(data.code), reason: String(data.reason ?? '') });
          break;
      }
    };
    socket.onclose = (event) =>
      onEvent({
        type: 'closed',
        code: event.code,
        reason: event.reason,
        expected: this.#hungUp || this.#endedByController,
        wasAccepted: this.#accepted,
      });
  }

  get accepted(): boolean {
    return this.#accepted;
  }

  /** Sends one chunk (only once the format was accepted; before that it would close the socket). */
  send(samples: Float32Array): void {
    if (this.#accepted && !this.#hungUp && this.#socket.readyState === WebSocket.OPEN)
      this.#socket.send(toS16le(samples));
  }

  /** Audio queued in the browser but not yet on the wire, in seconds. */
  get backlogSeconds(): number {
    return this.#socket.bufferedAmount / 2 / this.#sampleRate;
  }

  get slow(): boolean {
    return this.backlogSeconds > SLOW_BUFFER_SECONDS;
  }

  /** Closes from our side; what was queued goes out first, then the controller ends the session. */
  hangUp(): void {
    if (this.#hungUp) return;
    this.#hungUp = true;
    if (this.#socket.readyState === WebSocket.CONNECTING || this.#socket.readyState === WebSocket.OPEN)
      this.#socket.close(1000, 'done');
  }
}
