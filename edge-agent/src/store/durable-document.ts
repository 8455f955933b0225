import { decodeMessage, formatIssues } from '@loa/protocols';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Storage } from '../hardware/seams.js';

/** Corrupt copies kept per document, for a technician to look at; older ones are removed. */
export const KEEP_CORRUPT_COPIES = 3;

interface QueuedSave {
  data: string;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A typed JSON document in storage (the schedule, the replay state, settings).
 *
 * Loaded values are checked against the schema. A document that cannot be read, parsed
 * or validated (a card that lost a block) is moved aside to `<name>.corrupt-<ms>`,
 * reported through `onCorrupt` (the agent raises a `storage_error` fault), and the
 * default is used: the agent keeps running rather than stopping at boot.
 *
 * Saves are atomic (`writeAtomic`) and applied in call order, last write wins. Saves made
 * while one is being written are coalesced: only the newest value is written next, and
 * each caller's promise resolves once a value at least as new as its own is durable.
 * A value that would not pass the schema is refused at save time, since the next load
 * would throw it away.
 */
export class DurableDocument<S extends TSchema> {
  #writing: Promise<void> = Promise.resolve();
  #queued: QueuedSave | undefined;

  constructor(
    private readonly storage: Storage,
    readonly name: string,
    private readonly schema: S,
    private readonly fallback: () => Static<S>,
    private readonly onCorrupt: (name: string, problem: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The stored value, or the default when there is none or it is unusable. Never rejects for bad content. */
  async load(): Promise<Static<S>> {
    await this.idle();
    let raw: Buffer | undefined;
    try {
      raw = await this.storage.read(this.name);
    } catch (error) {
      this.#report(`could not be read: ${messageOf(error)}`);
      return this.fallback();
    }
    if (raw === undefined) return this.fallback();
    const decoded = decodeMessage(this.schema, raw, { maxBytes: Number.POSITIVE_INFINITY });
    if (decoded.ok) return decoded.value;
    const aside = await this.#setAside();
    this.#report(`${formatIssues(decoded.errors)} (${aside})`);
    return this.fallback();
  }

  /** Saves atomically; resolves when this value (or a newer one) is durable. */
  save(value: Static<S>): Promise<void> {
    const data = JSON.stringify(value);
    // Checked as it will be read back (JSON drops undefined, turns NaN into null).
    const checked = data === undefined ? undefined : decodeMessage(this.schema, data, { maxBytes: Infinity });
    if (!checked?.ok)
      return Promise.reject(
        new Error(`${this.name}: refusing to save an invalid document: ${checked ? formatIssues(checked.errors) : ''}`),
      );
    if (this.#queued) {
      this.#queued.data = data;
      return this.#queued.done;
    }
    let resolve = () => {};
    let reject: (error: unknown) => void = () => {};
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: QueuedSave = { data, done, resolve, reject };
    this.#queued = entry;
    this.#writing = this.#writing.then(async () => {
      this.#queued = undefined; // later saves wait for the next write
      try {
        await this.storage.writeAtomic(this.name, entry.data);
        entry.resolve();
      } catch (error) {
        entry.reject(error);
      }
    });
    return done;
  }

  /** Resolves when every save called so far has finished (written or failed). */
  idle(): Promise<void> {
    return this.#writing;
  }

  async #setAside(): Promise<string> {
    const aside = `${this.name}.corrupt-${this.now()}`;
    try {
      await this.storage.rename(this.name, aside);
    } catch (error) {
      try {
        await this.storage.remove(this.name);
        return `could not be kept (${messageOf(error)}), removed`;
      } catch {
        return `could not be moved aside: ${messageOf(error)}`;
      }
    }
    await this.#pruneCorruptCopies().catch(() => {});
    return `kept as ${aside}`;
  }

  /** A card that keeps corrupting a document must not fill up with copies of it. */
  async #pruneCorruptCopies(): Promise<void> {
    const slash = this.name.lastIndexOf('/');
    const dir = slash < 0 ? '' : this.name.slice(0, slash);
    const prefix = `${this.name.slice(slash + 1)}.corrupt-`;
    const copies = (await this.storage.list(dir))
      .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
      .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)));
    for (const old of copies.slice(KEEP_CORRUPT_COPIES)) await this.storage.remove(dir ? `${dir}/${old}` : old);
  }

  #report(problem: string): void {
    try {
      this.onCorrupt(this.name, problem);
    } catch {
      // A failing reporter must not stop the agent from starting.
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
