import { createHash } from 'node:crypto';
import type { AssetRef, CacheEvent } from '@loa/protocols';
import type { Clock, Storage } from '../hardware/seams.js';
import { Backoff } from '../link/backoff.js';

export type CacheReport = Pick<CacheEvent, 'type' | 'sha256' | 'state'> & Partial<Pick<CacheEvent, 'bytes' | 'reason'>>;

export interface ContentCacheOptions {
  storage: Storage;
  clock: Clock;
  /** Base for relative asset URLs (the controller). */
  baseUrl: string;
  report: (report: CacheReport) => void;
  /** Most bytes the cache may hold. */
  budgetBytes: number;
  concurrency?: number;
  /** Extra request headers (a credential for the controller). */
  headers?: Record<string, string>;
  requestTimeoutMs?: number;
  /** Attempts (whole downloads that failed verification, or errors) before reporting failed. */
  maxFailures?: number;
  fetch?: typeof fetch;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

interface Wanted {
  ref: AssetRef;
  neededBy: number;
  failures: number;
  notBefore: number;
  backoff: Backoff;
}

const dir = 'assets';
const file = (sha: string) => `${dir}/${sha}`;
const part = (sha: string) => `${dir}/${sha}.part`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Audio assets held on the receiver, fetched ahead of airtime. Downloads resume with HTTP
 * Range after a dropped 3G link (bytes already here are never fetched again), every file
 * is checked against its SHA-256 before it is used, and space is freed by evicting the
 * least recently used assets the schedule no longer needs.
 */
export class ContentCache {
  readonly #wanted = new Map<string, Wanted>();
  readonly #held = new Map<string, { bytes: number; usedAt: number }>();
  #retained = new Set<string>();
  #active = 0;
  #timer: ReturnType<Clock['setTimeout']> | undefined;
  readonly stats = { bytesDownloaded: 0, verifyFailures: 0, evicted: 0 };

  private constructor(private readonly o: ContentCacheOptions) {}

  static async open(o: ContentCacheOptions): Promise<ContentCache> {
    const cache = new ContentCache(o);
    for (const name of await o.storage.list(dir)) {
      if (/^[0-9a-f]{64}$/.test(name))
        cache.#held.set(name, { bytes: (await o.storage.size(file(name))) ?? 0, usedAt: o.clock.now() });
    }
    return cache;
  }

  has(sha: string): boolean {
    return this.#held.has(sha);
  }

  /** Queues the assets not yet here, earliest needed first. */
  want(assets: readonly AssetRef[], neededBy = this.o.clock.now()): void {
    for (const ref of assets) {
      if (this.#held.has(ref.sha256)) continue;
      const known = this.#wanted.get(ref.sha256);
      if (known) known.neededBy = Math.min(known.neededBy, neededBy);
      else
        this.#wanted.set(ref.sha256, {
          ref,
          neededBy,
          failures: 0,
          notBefore: 0,
          backoff: new Backoff(2000, 10 * 60_000),
        });
    }
    this.#pump();
  }

  /** The assets the coming schedule needs: never evicted. */
  retain(shas: Iterable<string>): void {
    this.#retained = new Set(shas);
  }

  /** An asset's bytes, verified; a file that no longer matches its hash is dropped and fetched again. */
  async read(sha: string): Promise<Buffer | undefined> {
    const data = await this.o.storage.read(file(sha));
    if (!data) return undefined;
    if (sha256(data) !== sha) {
      this.stats.verifyFailures++;
      await this.o.storage.remove(file(sha));
      this.#held.delete(sha);
      this.o.report({ type: 'cache', sha256: sha, state: 'failed', reason: 'corrupted on disk; downloading again' });
      const known = [...this.#wanted.values()].find((w) => w.ref.sha256 === sha);
      if (!known && this.#lastRefs.has(sha)) this.want([this.#lastRefs.get(sha) as AssetRef]);
      return undefined;
    }
    const held = this.#held.get(sha);
    if (held) held.usedAt = this.o.clock.now();
    return data;
  }

  readonly #lastRefs = new Map<string, AssetRef>();

  state(): { assets: number; bytesUsed: number; bytesFree: number; downloading: number } {
    const bytesUsed = [...this.#held.values()].reduce((a, h) => a + h.bytes, 0);
    return {
      assets: this.#held.size,
      bytesUsed,
      bytesFree: Math.max(0, this.o.budgetBytes - bytesUsed),
      downloading: this.#wanted.size,
    };
  }

  close(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#wanted.clear();
  }

  #pump(): void {
    const now = this.o.clock.now();
    const queue = [...this.#wanted.values()]
      .filter((w) => !this.#inFlight.has(w.ref.sha256))
      .sort((a, b) => a.neededBy - b.neededBy);
    for (const w of queue) {
      if (this.#active >= (this.o.concurrency ?? 2)) break;
      if (w.notBefore > now) continue;
      void this.#download(w);
    }
    const next = queue.filter((w) => w.notBefore > now).map((w) => w.notBefore);
    if (next.length && !this.#timer) {
      this.#timer = this.o.clock.setTimeout(
        () => {
          this.#timer = undefined;
          this.#pump();
        },
        Math.min(...next) - now,
      );
    }
  }

  readonly #inFlight = new Set<string>();

  async #download(w: Wanted): Promise<void> {
    const { ref } = w;
    this.#active++;
    this.#inFlight.add(ref.sha256);
    this.#lastRefs.set(ref.sha256, ref);
    try {
      await this.#makeRoom(ref.bytes);
      let have = (await this.o.storage.size(part(ref.sha256))) ?? 0;
      if (have > ref.bytes) {
        await this.o.storage.remove(part(ref.sha256));
        have = 0;
      }
      if (have < ref.bytes) await this.#fetchFrom(ref, have);
      const data = (await this.o.storage.read(part(ref.sha256))) ?? Buffer.alloc(0);
      if (data.length !== ref.bytes || sha256(data) !== ref.sha256) {
        this.stats.verifyFailures++;
        await this.o.storage.remove(part(ref.sha256));
        throw new Error(
          data.length !== ref.bytes ? `size ${data.length}, expected ${ref.bytes}` : 'SHA-256 does not match',
        );
      }
      await this.o.storage.rename(part(ref.sha256), file(ref.sha256));
      this.#held.set(ref.sha256, { bytes: ref.bytes, usedAt: this.o.clock.now() });
      this.#wanted.delete(ref.sha256);
      this.o.report({ type: 'cache', sha256: ref.sha256, state: 'ready', bytes: ref.bytes });
    } catch (error) {
      w.failures++;
      const reason = String((error as Error).message ?? error).slice(0, 200);
      this.o.log?.('asset download failed', { sha256: ref.sha256, failures: w.failures, reason });
      if (w.failures === (this.o.maxFailures ?? 5))
        this.o.report({ type: 'cache', sha256: ref.sha256, state: 'failed', reason });
      // Keep trying (a warning's audio matters), ever more slowly.
      w.notBefore = this.o.clock.now() + w.backoff.next();
    } finally {
      this.#active--;
      this.#inFlight.delete(ref.sha256);
      this.#pump();
    }
  }

  async #fetchFrom(ref: AssetRef, have: number): Promise<void> {
    const url = new URL(ref.url, this.o.baseUrl).toString();
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), this.o.requestTimeoutMs ?? 60_000);
    try {
      const response = await (this.o.fetch ?? fetch)(url, {
        headers: { ...this.o.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        signal: controller.signal,
      });
      if (response.status === 200 && have > 0) {
        // The server ignored Range: start again from the first byte.
        await this.o.storage.remove(part(ref.sha256));
      } else if (response.status !== 206 && response.status !== 200) {
        throw new Error(`HTTP ${response.status} for ${url}`);
      }
      if (!response.body) throw new Error('empty response');
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const buffer = Buffer.from(chunk);
        await this.o.storage.append(part(ref.sha256), buffer);
        this.stats.bytesDownloaded += buffer.length;
      }
    } finally {
      clearTimeout(timeout);
    }
  }

  async #makeRoom(bytes: number): Promise<void> {
    let used = this.state().bytesUsed;
    if (used + bytes <= this.o.budgetBytes) return;
    const candidates = [...this.#held.entries()]
      .filter(([sha]) => !this.#retained.has(sha))
      .sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [sha, held] of candidates) {
      if (used + bytes <= this.o.budgetBytes) break;
      await this.o.storage.remove(file(sha));
      this.#held.delete(sha);
      used -= held.bytes;
      this.stats.evicted++;
      this.o.report({ type: 'cache', sha256: sha, state: 'evicted', bytes: held.bytes });
    }
    if (used + bytes > this.o.budgetBytes) throw new Error('no room: the schedule needs more than the cache budget');
  }
}
