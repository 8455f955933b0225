import { createHash } from 'node:crypto';
import type { AssetRef, CacheEvent } from '@loa/protocols';
import type { Clock, Storage, TimerHandle } from '../hardware/seams.js';
import { Backoff } from '../link/backoff.js';
import { DownloadError, type FailureKind, fetchRange } from './asset-fetch.js';
import {
  ASSET_DIR,
  assetFile,
  type CacheIndex,
  classify,
  INDEX_NAME,
  type IndexEntry,
  parseIndex,
  partFile,
  SHA256_RE,
} from './cache-index.js';

/** A cache report; the agent adds the event head (eventId, receiverId, at) and persists it. */
export type CacheReport = Pick<CacheEvent, 'type' | 'sha256' | 'state'> & Partial<Pick<CacheEvent, 'bytes' | 'reason'>>;

/** Sent to the controller only (never to another host an asset URL or redirect points at). */
export type Credential = { bearer: string } | { username: string; password: string };

export interface ContentCacheOptions {
  storage: Storage;
  clock: Clock;
  /**
   * The controller's base URL. Asset URLs that are not absolute are paths on the
   * controller, below this base: with `https://host/loa`, `/assets/x` is
   * `https://host/loa/assets/x`.
   */
  baseUrl: string;
  report: (report: CacheReport) => void;
  /** Most bytes the cache may hold (verified assets plus partial downloads). */
  budgetBytes: number;
  /** Free bytes on the data directory's file system (the Board's disk()); unknown if absent. */
  freeBytes?: () => number | undefined | Promise<number | undefined>;
  /** Bytes to leave free on the file system when `freeBytes` is given. Default 64 MiB. */
  reserveBytes?: number;
  /** Downloads at once. Default 2 (a 3G link). */
  concurrency?: number;
  /** Credential for the controller. */
  credential?: Credential;
  /** Extra request headers for the controller (not sent to other hosts). */
  headers?: Record<string, string>;
  /** A request is abandoned (and retried) when no response or data has come for this long. Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Failed attempts in a row (errors without progress, or downloads that failed
   * verification) before the asset is reported `failed`. Network trouble keeps being
   * retried; a file that keeps failing verification is not downloaded again until it is
   * wanted again (the next schedule, or a play that missed it). Default 5.
   */
  maxFailures?: number;
  /** Retry delays: exponential from this base up to the cap, with full jitter. Default 2 s .. 10 min. */
  retryBaseMs?: number;
  retryCapMs?: number;
  /**
   * An asset needed within this many ms may interrupt a download needed later (which
   * resumes afterwards, keeping its bytes) when all download slots are busy. Default 2 min.
   */
  urgentMs?: number;
  /** LRU changes from reads are saved at most this often. Default 60 s. */
  touchSaveMs?: number;
  /** Jitter source (tests make it fixed). */
  random?: () => number;
  fetch?: typeof fetch;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** The cache's numbers as telemetry carries them. */
export interface CacheState {
  assets: number;
  bytesUsed: number;
  bytesFree: number;
}

/** One asset as `edge-agent status` shows it. */
export interface AssetStatus {
  sha256: string;
  state: 'ready' | 'downloading' | 'queued' | 'retrying' | 'failed';
  bytes: number;
  /** Bytes downloaded so far. */
  have?: number;
  /** Needed by the schedule horizon (never evicted). */
  retained: boolean;
  neededBy?: number;
  lastUsedAt?: number;
  failures?: number;
  lastError?: string;
  /** In how many ms the next attempt is due. */
  retryInMs?: number;
}

interface Download {
  abort: AbortController;
  /** Stopped for a more urgent asset: not a failure, resumes soon. */
  preempted: boolean;
  /** Bytes in the partial file when the attempt started, and received since. */
  have: number;
  received: number;
  /** Its bytes are accounted for (it has passed the room check). */
  prepared: boolean;
}

interface Wanted {
  ref: AssetRef;
  url: URL;
  neededBy: number;
  /** Failed attempts in a row. */
  failures: number;
  /** Monotonic time before which no attempt starts. */
  notBefore: number;
  backoff: Backoff;
  /** Keeps failing verification: waits for the next want(). */
  parked: boolean;
  /** Waits for room: tried again as soon as the retained set changes. */
  needsRoom: boolean;
  failedReported: boolean;
  lastError?: string;
  download?: Download;
}

type Held = IndexEntry;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Audio assets held on the receiver, fetched ahead of airtime over a weak, metered link.
 *
 * - Downloads resume with HTTP Range after the link drops: bytes already on disk are never
 *   fetched again (a server that ignores Range restarts the file). Earliest-needed first,
 *   a few at a time; retries back off exponentially with jitter on the injected clock.
 * - Every file is checked against its size and SHA-256 before it is put in place, and
 *   again on every read: a file damaged on disk is refused, deleted, reported and fetched
 *   again.
 * - Space is freed by need: least recently used assets that the schedule horizon does not
 *   retain and nobody is reading are evicted (and reported), never more than needed.
 * - Background work never throws; every failure is retried, logged and, when it
 *   persists, reported.
 */
export class ContentCache {
  readonly #o: ContentCacheOptions;
  readonly #base: URL;
  readonly #wanted = new Map<string, Wanted>();
  readonly #held = new Map<string, Held>();
  /** Partial downloads on disk not being downloaded now, and their sizes. */
  readonly #parts = new Map<string, number>();
  readonly #reading = new Map<string, number>();
  #retained = new Set<string>();
  #active = 0;
  #useSeq = 1;
  #lastDiskFree: number | undefined;
  #wake: TimerHandle | undefined;
  #wakeAt: number | undefined;
  #touchTimer: TimerHandle | undefined;
  #saving: Promise<void> | undefined;
  #saveAgain = false;
  #roomLock: Promise<unknown> = Promise.resolve();
  #idle: (() => void)[] = [];
  /** Callers waiting for assets to be held (a play-now waiting for its audio). */
  readonly #heldWaiters = new Set<{ check: () => void; giveUp: () => void }>();
  #closed = false;
  /** Counters for tests and logs. */
  readonly stats = { requests: 0, bytesDownloaded: 0, verifyFailures: 0, corruptOnDisk: 0, evicted: 0 };

  private constructor(o: ContentCacheOptions) {
    this.#o = o;
    const base = new URL(o.baseUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    this.#base = base;
  }

  /** Opens the cache on what the data directory already holds (verified assets, partial downloads). */
  static async open(o: ContentCacheOptions): Promise<ContentCache> {
    const cache = new ContentCache(o);
    await cache.#load();
    return cache;
  }

  /** Whether a verified copy is held (read() still re-checks it). */
  has(sha: string): boolean {
    return this.#held.has(sha);
  }

  /**
   * Queues the assets not held yet (repeats are merged, keeping the earliest need), to be
   * fetched earliest-needed first. `neededBy` is a wall-clock time (ms); default now.
   */
  want(assets: readonly AssetRef[], neededBy = this.#o.clock.now()): void {
    if (this.#closed) return;
    for (const ref of assets) {
      try {
        this.#want(ref, neededBy);
      } catch (error) {
        this.#log('asset refused', { sha256: ref?.sha256, error: String(error) });
        if (typeof ref?.sha256 === 'string' && SHA256_RE.test(ref.sha256))
          this.#emit({ type: 'cache', sha256: ref.sha256, state: 'failed', reason: `refused: ${String(error)}` });
      }
    }
    this.#pump();
  }

  /** The assets the schedule horizon needs: never evicted. Replaces the previous set. */
  retain(shas: Iterable<string>): void {
    this.#retained = new Set(shas);
    for (const w of this.#wanted.values())
      if (w.needsRoom && !w.download) {
        w.needsRoom = false;
        w.notBefore = 0;
      }
    this.#pump();
  }

  /**
   * An asset's bytes, verified against its SHA-256 now. A file that no longer matches
   * (bit rot, a write cut short) is deleted, reported `failed`, queued for download again,
   * and `undefined` is returned. Never throws.
   */
  async read(sha: string): Promise<Buffer | undefined> {
    const held = this.#held.get(sha);
    if (!held) return undefined;
    this.#reading.set(sha, (this.#reading.get(sha) ?? 0) + 1);
    let data: Buffer | undefined;
    try {
      data = await this.#o.storage.read(assetFile(sha));
    } catch (error) {
      this.#log('asset read failed', { sha256: sha, error: String(error) });
      return undefined;
    } finally {
      const n = (this.#reading.get(sha) ?? 1) - 1;
      if (n > 0) this.#reading.set(sha, n);
      else this.#reading.delete(sha);
    }
    if (data && data.length === held.bytes && sha256(data) === sha) {
      if (this.#held.get(sha) === held) this.#touch(held);
      return data;
    }
    // Only the first reader to find it damaged acts (a new copy may be in place already).
    if (this.#held.get(sha) === held) await this.#refuse(sha, held, data ? 'corrupted on disk' : 'missing on disk');
    return undefined;
  }

  /** Telemetry numbers: assets held, bytes they (and partial downloads) use, bytes still free. */
  state(): CacheState {
    let used = 0;
    for (const h of this.#held.values()) used += h.bytes;
    for (const size of this.#parts.values()) used += size;
    for (const w of this.#wanted.values()) if (w.download) used += w.download.have + w.download.received;
    let free = this.#o.budgetBytes - used;
    if (this.#lastDiskFree !== undefined)
      free = Math.min(free, this.#lastDiskFree - (this.#o.reserveBytes ?? DEFAULT_RESERVE));
    return { assets: this.#held.size, bytesUsed: used, bytesFree: Math.max(0, Math.floor(free)) };
  }

  /** Every asset held or wanted, for the status command: wanted ones first, earliest need first. */
  assetStatus(): AssetStatus[] {
    const mono = this.#o.clock.monotonic();
    const wanted = [...this.#wanted.values()]
      .sort((a, b) => a.neededBy - b.neededBy)
      .map((w): AssetStatus => {
        const sha = w.ref.sha256;
        const have = w.download ? w.download.have + w.download.received : (this.#parts.get(sha) ?? 0);
        const state = w.download
          ? 'downloading'
          : w.failedReported
            ? 'failed'
            : w.failures > 0 || w.needsRoom || w.notBefore > mono
              ? 'retrying'
              : 'queued';
        return {
          sha256: sha,
          state,
          bytes: w.ref.bytes,
          have,
          retained: this.#retained.has(sha),
          neededBy: w.neededBy,
          ...(w.failures ? { failures: w.failures } : {}),
          ...(w.lastError ? { lastError: w.lastError } : {}),
          ...(!w.download && !w.parked && w.notBefore > mono ? { retryInMs: w.notBefore - mono } : {}),
        };
      });
    const held = [...this.#held.entries()]
      .sort((a, b) => b[1].lastUsed - a[1].lastUsed)
      .map(
        ([sha, h]): AssetStatus => ({
          sha256: sha,
          state: 'ready',
          bytes: h.bytes,
          retained: this.#retained.has(sha),
          ...(h.usedAt ? { lastUsedAt: h.usedAt } : {}),
        }),
      );
    return [...wanted, ...held];
  }

  /**
   * Resolves true as soon as every listed asset is held (checked as each download lands,
   * not by polling: an emergency must not lose a poll period), false after `timeoutMs`
   * or when the cache closes.
   */
  whenHeld(shas: readonly string[], timeoutMs: number): Promise<boolean> {
    const missing = () => shas.some((sha) => !this.#held.has(sha));
    if (!missing()) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        check: () => {
          if (missing()) return;
          this.#o.clock.clearTimeout(timer);
          this.#heldWaiters.delete(waiter);
          resolve(true);
        },
        giveUp: () => {
          this.#o.clock.clearTimeout(timer);
          this.#heldWaiters.delete(waiter);
          resolve(false);
        },
      };
      const timer = this.#o.clock.setTimeout(() => waiter.giveUp(), timeoutMs);
      this.#heldWaiters.add(waiter);
    });
  }

  /** Resolves when no download is in flight (those waiting for a retry do not count). */
  settled(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops downloading (partial files stay for next time) and saves the index. Never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of [...this.#heldWaiters]) waiter.giveUp();
    this.#clearWake();
    if (this.#touchTimer) this.#o.clock.clearTimeout(this.#touchTimer);
    this.#touchTimer = undefined;
    for (const w of this.#wanted.values()) w.download?.abort.abort();
    await this.settled();
    await this.#saveIndex();
  }

  // ---- queue ------------------------------------------------------------------------

  #want(ref: AssetRef, neededBy: number): void {
    if (!SHA256_RE.test(ref.sha256) || !Number.isSafeInteger(ref.bytes) || ref.bytes < 1)
      throw new Error('invalid asset reference');
    const held = this.#held.get(ref.sha256);
    if (held) {
      if (held.ref?.url !== ref.url) held.ref = ref;
      return;
    }
    const url = this.#resolve(ref.url);
    const known = this.#wanted.get(ref.sha256);
    if (!known) {
      this.#wanted.set(ref.sha256, {
        ref,
        url,
        neededBy,
        failures: 0,
        notBefore: 0,
        backoff: new Backoff(this.#o.retryBaseMs ?? 2000, this.#o.retryCapMs ?? 10 * 60_000, this.#o.random),
        parked: false,
        needsRoom: false,
        failedReported: false,
      });
      return;
    }
    known.neededBy = Math.min(known.neededBy, neededBy);
    const moved = known.url.href !== url.href || known.ref.bytes !== ref.bytes;
    known.ref = ref;
    known.url = url;
    if (moved) {
      // A new address (or a corrected size) deserves a fresh start.
      known.failures = 0;
      known.backoff.reset();
      known.failedReported = false;
    }
    if (known.parked || moved) {
      known.parked = false;
      known.failedReported = false;
      known.notBefore = 0;
    }
  }

  /** Absolute http(s) URLs as they are; anything else is a path below the controller's base URL. */
  #resolve(url: string): URL {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
    const resolved = absolute ? new URL(url) : new URL(url.replace(/^\/+/, ''), this.#base);
    if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:')
      throw new Error(`unsupported URL scheme ${resolved.protocol}`);
    return resolved;
  }

  /** Request headers for a URL: the controller's credential only for the controller's origin. */
  #headersFor(url: URL): Record<string, string> {
    if (url.origin !== this.#base.origin) return {};
    const c = this.#o.credential;
    const authorization = !c
      ? undefined
      : 'bearer' in c
        ? `Bearer ${c.bearer}`
        : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    return { ...this.#o.headers, ...(authorization ? { authorization } : {}) };
  }

  /** Starts due downloads, earliest-needed first, within the concurrency limit; sets the next wake-up. */
  #pump(): void {
    if (this.#closed) return;
    const mono = this.#o.clock.monotonic();
    const limit = Math.max(1, this.#o.concurrency ?? 2);
    const idle = [...this.#wanted.values()].filter((w) => !w.download && !w.parked);
    const due = idle.filter((w) => w.notBefore <= mono).sort((a, b) => a.neededBy - b.neededBy);
    const waiting: Wanted[] = [];
    for (const w of due) {
      if (this.#active < limit) this.#start(w);
      else waiting.push(w);
    }
    this.#preemptFor(waiting);
    let next: number | undefined;
    for (const w of idle) if (!w.download && w.notBefore > mono) next = Math.min(next ?? w.notBefore, w.notBefore);
    if (next === undefined) this.#clearWake();
    else if (this.#wakeAt === undefined || next < this.#wakeAt) {
      this.#clearWake();
      this.#wakeAt = next;
      this.#wake = this.#o.clock.setTimeout(() => {
        this.#wake = undefined;
        this.#wakeAt = undefined;
        this.#pump();
      }, next - mono);
    }
  }

  /** Interrupts downloads needed later for urgent ones waiting for a slot; the interrupted resume afterwards. */
  #preemptFor(waiting: readonly Wanted[]): void {
    const urgentBy = this.#o.clock.now() + (this.#o.urgentMs ?? 120_000);
    const urgent = waiting.filter((w) => w.neededBy <= urgentBy);
    if (urgent.length === 0) return;
    const running = [...this.#wanted.values()].filter((w) => w.download);
    let freeing = running.filter((w) => w.download?.preempted).length;
    const victims = running
      .filter((w) => !w.download?.preempted && w.neededBy > urgentBy)
      .sort((a, b) => b.neededBy - a.neededBy);
    for (const w of urgent) {
      if (freeing > 0) {
        freeing--;
        continue;
      }
      const victim = victims.shift();
      if (!victim?.download) break;
      this.#log('download interrupted for a more urgent asset', { sha256: victim.ref.sha256, for: w.ref.sha256 });
      victim.download.preempted = true;
      victim.download.abort.abort();
    }
  }

  #clearWake(): void {
    if (this.#wake) this.#o.clock.clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#wakeAt = undefined;
  }

  #start(w: Wanted): void {
    this.#active++;
    w.download = { abort: new AbortController(), preempted: false, have: 0, received: 0, prepared: false };
    this.#download(w)
      .catch((error: unknown) => this.#log('content cache: unexpected error', { error: String(error) }))
      .finally(() => {
        this.#active--;
        w.download = undefined;
        this.#pump();
        if (this.#active === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
  }

  // ---- one download -----------------------------------------------------------------

  async #download(w: Wanted): Promise<void> {
    const d = w.download as Download;
    const { ref } = w;
    const sha = ref.sha256;
    try {
      d.have = await this.#withRoomLock(() => this.#prepare(w));
      if (d.have < ref.bytes) {
        this.stats.requests++;
        await fetchRange({
          url: w.url,
          headers: (url) => this.#headersFor(url),
          have: d.have,
          bytes: ref.bytes,
          storage: this.#o.storage,
          part: partFile(sha),
          clock: this.#o.clock,
          stallMs: this.#o.requestTimeoutMs ?? 30_000,
          fetch: this.#o.fetch ?? fetch,
          signal: d.abort.signal,
          onData: (n) => {
            d.received += n;
            this.stats.bytesDownloaded += n;
          },
        });
      }
      await this.#install(w);
    } catch (error) {
      await this.#failed(w, d, error);
    } finally {
      const left = await this.#o.storage.size(partFile(sha)).catch(() => undefined);
      if (left && this.#wanted.has(sha)) this.#parts.set(sha, left);
      else {
        this.#parts.delete(sha);
        if (left) await this.#o.storage.remove(partFile(sha)).catch(() => {});
      }
    }
  }

  /** Finds how much is on disk already and makes room for the rest. Returns the bytes held. */
  async #prepare(w: Wanted): Promise<number> {
    const { ref } = w;
    const part = partFile(ref.sha256);
    let have = (await this.#o.storage.size(part)) ?? 0;
    if (have > ref.bytes) {
      await this.#o.storage.remove(part);
      have = 0;
    }
    this.#parts.delete(ref.sha256);
    const d = w.download as Download;
    d.have = have;
    await this.#makeRoom(w, ref.bytes - have);
    d.prepared = true;
    return have;
  }

  /** Checks the complete partial file and puts it in place. */
  async #install(w: Wanted): Promise<void> {
    const { ref } = w;
    const sha = ref.sha256;
    const part = partFile(sha);
    const data = await this.#o.storage.read(part);
    if (!data) throw new DownloadError('network', 'the partial file is gone');
    if (data.length < ref.bytes)
      throw new DownloadError('network', `the connection ended after ${data.length} of ${ref.bytes} bytes`);
    if (data.length > ref.bytes) throw new DownloadError('size', `${data.length} bytes, expected ${ref.bytes}`);
    if (sha256(data) !== sha) throw new DownloadError('verify', 'SHA-256 does not match');
    await this.#o.storage.rename(part, assetFile(sha));
    this.#held.set(sha, { bytes: ref.bytes, lastUsed: this.#useSeq++, usedAt: this.#o.clock.now(), ref });
    this.#wanted.delete(sha);
    this.#parts.delete(sha);
    void this.#saveIndex();
    for (const waiter of [...this.#heldWaiters]) waiter.check();
    this.#emit({ type: 'cache', sha256: sha, state: 'ready', bytes: ref.bytes });
  }

  async #failed(w: Wanted, d: Download, error: unknown): Promise<void> {
    const e =
      error instanceof DownloadError
        ? error
        : new DownloadError(isRoom(error) ? 'storage' : 'network', String((error as Error)?.message ?? error));
    const kind: FailureKind | 'room' = error instanceof NoRoom ? 'room' : e.kind;
    const sha = w.ref.sha256;
    if (kind === 'aborted') {
      // Closing, or interrupted for a more urgent asset: not the asset's fault.
      if (d.preempted) w.notBefore = 0;
      return;
    }
    const content = kind === 'size' || kind === 'verify';
    if (content) {
      // Wrong bytes: start again from the first byte.
      this.stats.verifyFailures++;
      await this.#o.storage.remove(partFile(sha)).catch(() => {});
    }
    const progressed = d.received > 0 && !content;
    if (progressed) {
      w.failures = 0;
      w.backoff.reset();
    } else w.failures++;
    w.lastError = e.message.slice(0, 300);
    this.#log('asset download failed', { sha256: sha, kind, failures: w.failures, reason: w.lastError });
    const max = this.#o.maxFailures ?? 5;
    // No room is reported at once: waiting will not help unless the schedule changes.
    if (!w.failedReported && (w.failures >= max || kind === 'room')) {
      w.failedReported = true;
      const tries = kind === 'room' ? '' : ` (${w.failures} attempts)`;
      this.#emit({ type: 'cache', sha256: sha, state: 'failed', reason: `${w.lastError}${tries}` });
    }
    if (content && w.failures >= max) {
      // Downloading the same wrong file again and again would burn the metered link.
      w.parked = true;
      return;
    }
    w.needsRoom = kind === 'room';
    w.notBefore = this.#o.clock.monotonic() + w.backoff.next();
  }

  // ---- space ------------------------------------------------------------------------

  /**
   * Makes room for `need` more bytes (the rest of `w`): first partial downloads nobody
   * wants, then verified assets least recently used first, skipping those the horizon
   * retains, those being read, and never evicting anything when that would not be enough.
   */
  async #makeRoom(w: Wanted, need: number): Promise<void> {
    const reserve = this.#o.reserveBytes ?? DEFAULT_RESERVE;
    let committed = 0;
    let coming = 0;
    for (const h of this.#held.values()) committed += h.bytes;
    for (const size of this.#parts.values()) committed += size;
    for (const other of this.#wanted.values()) {
      // Downloads still waiting for this check have their partial files counted above.
      if (!other.download?.prepared || other === w) continue;
      committed += other.ref.bytes;
      coming += Math.max(0, other.ref.bytes - other.download.have - other.download.received);
    }
    let short = committed + w.ref.bytes - this.#o.budgetBytes;
    const disk = await this.#diskFree();
    if (disk !== undefined) short = Math.max(short, coming + need + reserve - disk);
    if (short <= 0) return;

    for (const [sha, size] of [...this.#parts]) {
      if (short <= 0) break;
      if (this.#wanted.has(sha)) continue;
      await this.#o.storage.remove(partFile(sha));
      this.#parts.delete(sha);
      short -= size;
    }
    if (short <= 0) return;

    const candidates = [...this.#held.entries()]
      .filter(([sha]) => !this.#retained.has(sha) && !this.#reading.has(sha))
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed || a[1].usedAt - b[1].usedAt);
    const available = candidates.reduce((sum, [, h]) => sum + h.bytes, 0);
    if (available < short) {
      throw new NoRoom(
        w.ref.bytes > this.#o.budgetBytes
          ? `no room: the asset (${w.ref.bytes} bytes) is larger than the cache budget (${this.#o.budgetBytes})`
          : `no room: ${short} more bytes needed, only ${available} can be evicted (the rest is needed by the schedule)`,
      );
    }
    for (const [sha, h] of candidates) {
      if (short <= 0) break;
      // Still evictable after the awaits above?
      if (this.#held.get(sha) !== h || this.#reading.has(sha) || this.#retained.has(sha)) continue;
      this.#held.delete(sha);
      await this.#o.storage.remove(assetFile(sha));
      short -= h.bytes;
      this.stats.evicted++;
      this.#log('asset evicted', { sha256: sha, bytes: h.bytes });
      this.#emit({ type: 'cache', sha256: sha, state: 'evicted', bytes: h.bytes });
    }
    void this.#saveIndex();
    if (short > 0) throw new NoRoom(`no room: ${short} more bytes needed`);
  }

  async #diskFree(): Promise<number | undefined> {
    if (!this.#o.freeBytes) return undefined;
    try {
      const free = await this.#o.freeBytes();
      if (free === undefined || !Number.isFinite(free)) return undefined;
      this.#lastDiskFree = free;
      return free;
    } catch (error) {
      this.#log('free space unknown', { error: String(error) });
      return undefined;
    }
  }

  #withRoomLock<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#roomLock.then(task, task);
    this.#roomLock = run.catch(() => {});
    return run;
  }

  // ---- damage, use order, index --------------------------------------------------------

  async #refuse(sha: string, held: Held, what: string): Promise<void> {
    this.#held.delete(sha);
    this.stats.corruptOnDisk++;
    await this.#o.storage.remove(assetFile(sha)).catch((error: unknown) => {
      this.#log('cannot remove a damaged asset', { sha256: sha, error: String(error) });
    });
    void this.#saveIndex();
    const again = held.ref && !this.#closed;
    this.#log('asset refused', { sha256: sha, what });
    this.#emit({
      type: 'cache',
      sha256: sha,
      state: 'failed',
      reason: `${what} (SHA-256 check); ${again ? 'downloading again' : 'no address known to download it again'}`,
    });
    if (held.ref && again) this.want([held.ref]);
  }

  #touch(held: Held): void {
    held.lastUsed = this.#useSeq++;
    held.usedAt = this.#o.clock.now();
    if (this.#touchTimer || this.#closed) return;
    this.#touchTimer = this.#o.clock.setTimeout(() => {
      this.#touchTimer = undefined;
      void this.#saveIndex();
    }, this.#o.touchSaveMs ?? 60_000);
  }

  /** Writes the index, one write at a time (changes during a write cause one more). Never rejects. */
  #saveIndex(): Promise<void> {
    if (this.#saving) {
      this.#saveAgain = true;
      return this.#saving;
    }
    this.#saving = (async () => {
      do {
        this.#saveAgain = false;
        const doc: CacheIndex = { v: 1, assets: Object.fromEntries(this.#held) };
        try {
          await this.#o.storage.writeAtomic(INDEX_NAME, JSON.stringify(doc));
        } catch (error) {
          this.#log('cannot save the cache index', { error: String(error) });
        }
      } while (this.#saveAgain);
      this.#saving = undefined;
    })();
    return this.#saving;
  }

  async #load(): Promise<void> {
    const { storage } = this.#o;
    const index = parseIndex(await storage.read(INDEX_NAME).catch(() => undefined));
    let names: string[] = [];
    try {
      names = await storage.list(ASSET_DIR);
    } catch (error) {
      this.#log('cannot list the cached assets', { error: String(error) });
    }
    const found = classify(names);
    let changed = false;
    for (const sha of found.assets) {
      const size = await storage.size(assetFile(sha)).catch(() => undefined);
      if (size === undefined) continue;
      const entry = index.assets[sha];
      if (entry && entry.bytes !== size) {
        // Cut short by a power loss during an old write, or damaged: never use it.
        await storage.remove(assetFile(sha)).catch(() => {});
        this.stats.corruptOnDisk++;
        changed = true;
        this.#emit({
          type: 'cache',
          sha256: sha,
          state: 'failed',
          reason: `damaged on disk: ${size} bytes, expected ${entry.bytes}`,
        });
        continue;
      }
      if (!entry) changed = true;
      this.#held.set(sha, entry ?? { bytes: size, lastUsed: 0, usedAt: 0 });
      this.#useSeq = Math.max(this.#useSeq, (entry?.lastUsed ?? 0) + 1);
    }
    if (Object.keys(index.assets).some((sha) => !this.#held.has(sha))) changed = true;
    for (const sha of found.parts) {
      const size = await storage.size(partFile(sha)).catch(() => undefined);
      if (size !== undefined && !this.#held.has(sha)) this.#parts.set(sha, size);
      else if (size !== undefined) await storage.remove(partFile(sha)).catch(() => {});
    }
    if (changed) await this.#saveIndex();
  }

  #emit(report: CacheReport): void {
    try {
      this.#o.report(report);
    } catch (error) {
      this.#log('cache report failed', { error: String(error) });
    }
  }

  #log(message: string, detail?: Record<string, unknown>): void {
    try {
      this.#o.log?.(message, detail);
    } catch {}
  }
}

const DEFAULT_RESERVE = 64 * 1024 * 1024;

class NoRoom extends Error {}

function isRoom(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'ENOSPC';
}
