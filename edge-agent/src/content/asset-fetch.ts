import type { Clock, Storage, TimerHandle } from '../hardware/seams.js';

/**
 * Why one download attempt ended early:
 * - `network`: connection refused, reset or cut (the bytes received so far are kept);
 * - `stalled`: no response or no data for the stall timeout (bytes kept);
 * - `http`: an unexpected HTTP status (404, 500, too many redirects, ...);
 * - `protocol`: a 206 for another range than asked (the partial file is dropped);
 * - `size`: the server's file is not `bytes` long (the partial file is dropped);
 * - `verify`: the whole file does not match its SHA-256 (the partial file is dropped);
 * - `storage`: the data directory refused a write;
 * - `aborted`: the cache stopped the attempt (closing, or a more urgent download).
 */
export type FailureKind = 'network' | 'stalled' | 'http' | 'protocol' | 'size' | 'verify' | 'storage' | 'aborted';

export class DownloadError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface RangeFetch {
  url: URL;
  /** Headers for a request to this URL (the credential only goes to the controller). */
  headers: (url: URL) => Record<string, string>;
  /** Bytes already in the partial file: asked for with `Range: bytes=<have>-`. */
  have: number;
  /** The asset's size: a server answering with another size is refused at once. */
  bytes: number;
  storage: Storage;
  /** The partial file the data is appended to. */
  part: string;
  clock: Clock;
  /** Abort when no response, or no data, has come for this long. */
  stallMs: number;
  fetch: typeof fetch;
  /** Aborts the attempt from outside (close, pre-emption). */
  signal: AbortSignal;
  /** Called with each chunk's length as it is received. */
  onData?: (bytes: number) => void;
  maxRedirects?: number;
  /** Chunks are gathered to this size before each (fsynced) append. */
  flushBytes?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Received bytes may wait this long in memory for the disk before the reader waits for it. */
const MAX_BACKLOG = 1024 * 1024;

/**
 * One HTTP attempt at the rest of an asset: asks for the bytes after `have` and appends
 * them to the partial file as they arrive. Every byte received is on disk before this
 * returns or throws (so the next attempt continues from there), except when the file is
 * found to be of the wrong size, in which case the partial file is deleted. Handles 206,
 * and a 200 that ignored the Range (the partial file is restarted). Throws DownloadError.
 */
export async function fetchRange(o: RangeFetch): Promise<void> {
  if (o.signal.aborted) throw new DownloadError('aborted', 'aborted');
  const controller = new AbortController();
  let stalled = false;
  let timer: TimerHandle | undefined;
  const arm = () => {
    if (timer) o.clock.clearTimeout(timer);
    timer = o.clock.setTimeout(() => {
      stalled = true;
      controller.abort();
    }, o.stallMs);
  };
  const abortFromOutside = () => controller.abort();
  o.signal.addEventListener('abort', abortFromOutside, { once: true });
  const writer = new PartWriter(o.storage, o.part, o.flushBytes ?? 64 * 1024);
  let failure: unknown;
  try {
    arm();
    const response = await request(o, controller.signal);
    let have = o.have;
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (range?.total !== undefined && range.total !== o.bytes)
        throw new DownloadError('size', `the server's file is ${range.total} bytes, expected ${o.bytes}`);
      if (!range || range.start !== have)
        throw new DownloadError(
          'protocol',
          `asked for bytes ${have}-, got ${response.headers.get('content-range') ?? 'no Content-Range'}`,
        );
    } else if (response.status === 200) {
      const length = response.headers.get('content-length');
      if (length !== null && Number(length) !== o.bytes)
        throw new DownloadError('size', `the server's file is ${length} bytes, expected ${o.bytes}`);
      if (have > 0) {
        // The server ignored the Range: its body is the whole file, so start again.
        await o.storage.remove(o.part);
        have = 0;
      }
    } else if (response.status === 416) {
      throw new DownloadError('size', `the server's file is shorter than the ${have} bytes already here (HTTP 416)`);
    } else {
      throw new DownloadError('http', `HTTP ${response.status} from ${shown(response.url || o.url)}`);
    }
    if (!response.body) throw new DownloadError('network', 'response without a body');
    const reader = response.body.getReader();
    let total = have;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arm();
      o.onData?.(value.length);
      total += value.length;
      // Never take more than the asset's size over a metered link.
      if (total > o.bytes) throw new DownloadError('size', `the server sent more than ${o.bytes} bytes`);
      writer.push(value);
      if (writer.backlog > MAX_BACKLOG) await writer.drain();
    }
  } catch (error) {
    failure = error;
  } finally {
    if (timer) o.clock.clearTimeout(timer);
    o.signal.removeEventListener('abort', abortFromOutside);
    // Releases the connection of a body left unread (no-op once it was read to the end).
    controller.abort();
  }
  try {
    await writer.drain();
  } catch (error) {
    failure ??= error;
  }
  if (failure === undefined) return;
  if (failure instanceof DownloadError) {
    if (failure.kind === 'size' || failure.kind === 'protocol') await o.storage.remove(o.part).catch(() => {});
    throw failure;
  }
  if (o.signal.aborted) throw new DownloadError('aborted', 'aborted');
  if (stalled) throw new DownloadError('stalled', `no data for ${o.stallMs} ms from ${shown(o.url)}`);
  throw new DownloadError('network', `${message(failure)} (${shown(o.url)})`);
}

/** GET with Range, following redirects itself so the credential never leaves the controller. */
async function request(o: RangeFetch, signal: AbortSignal): Promise<Response> {
  let url = o.url;
  for (let hop = 0; ; hop++) {
    const response = await o.fetch(url, {
      headers: {
        ...o.headers(url),
        // Byte offsets must be those of the file itself, not of a compressed stream.
        'accept-encoding': 'identity',
        ...(o.have > 0 ? { range: `bytes=${o.have}-` } : {}),
      },
      redirect: 'manual',
      signal,
    });
    if (!REDIRECTS.has(response.status)) return response;
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get('location');
    if (!location || hop >= (o.maxRedirects ?? 5))
      throw new DownloadError('http', `HTTP ${response.status} redirect not followed from ${shown(url)}`);
    url = new URL(location, url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new DownloadError('http', `redirect to a ${url.protocol} URL refused`);
  }
}

/** `bytes 100-199/200` (total may be `*`). */
export function parseContentRange(value: string | null): { start: number; total?: number } | undefined {
  const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  return match[3] === '*' ? { start } : { start, total: Number(match[3]) };
}

/** A URL for logs and reports: no credentials, no query (it may hold a token). */
export function shown(url: URL | string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function message(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

/**
 * Appends received data to the partial file in the background, in order, a batch at a
 * time, so the reader keeps a read pending: bytes already received are then not lost in a
 * stream queue when the connection drops.
 */
class PartWriter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #writingBytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;

  constructor(
    private readonly storage: Storage,
    private readonly name: string,
    private readonly flushBytes: number,
  ) {}

  get backlog(): number {
    return this.#pendingBytes + this.#writingBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.#error !== undefined) throw this.#error;
    this.#pending.push(Buffer.from(chunk));
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= this.flushBytes) this.#flush();
  }

  /** Writes everything pushed; throws the first write error. */
  async drain(): Promise<void> {
    this.#flush();
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    const data = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writingBytes += data.length;
    this.#chain = this.#chain.then(async () => {
      try {
        if (this.#error === undefined) await this.storage.append(this.name, data);
      } catch (error) {
        this.#error = new DownloadError('storage', `cannot write ${this.name}: ${message(error)}`);
      } finally {
        this.#writingBytes -= data.length;
      }
    });
  }
}
