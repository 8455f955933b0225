import type { ReceiverEvent } from '@loa/protocols';
import type { Storage } from '../hardware/seams.js';

const DIR = 'outbox';
/** What goes first when the outbox is full: cache progress, then acknowledgements; proof-of-play and faults last. */
const DROP_ORDER: Record<ReceiverEvent['type'], number> = { cache: 0, ack: 1, fault: 2, play: 3 };

interface Entry {
  file: string;
  type: ReceiverEvent['type'];
}

/**
 * Reports waiting for the controller's receipt. One small file per report (written
 * atomically), named by a sequence number so the oldest go first: adding or confirming
 * one report touches one file, which keeps flash wear and the cost of a power cut small
 * (at worst the one report being written is lost, never the others). A week offline is
 * a few thousand files, which a directory handles well.
 */
export class Outbox {
  readonly #entries = new Map<string, Entry>();
  #seq = 0;
  readonly stats = { dropped: 0 };

  private constructor(
    private readonly storage: Storage,
    private readonly maxEntries: number,
  ) {}

  static async open(storage: Storage, maxEntries = 10_000): Promise<Outbox> {
    const outbox = new Outbox(storage, maxEntries);
    for (const file of await storage.list(DIR)) {
      const match = /^(\d{12})-([0-9a-f-]{36})-(ack|play|fault|cache)\.json$/.exec(file);
      if (!match) {
        await storage.remove(`${DIR}/${file}`);
        continue;
      }
      outbox.#entries.set(match[2] as string, { file, type: match[3] as ReceiverEvent['type'] });
      outbox.#seq = Math.max(outbox.#seq, Number(match[1]));
    }
    return outbox;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Keeps a report until the controller confirms it; resolves once it is durable. */
  async add(event: ReceiverEvent): Promise<void> {
    if (this.#entries.has(event.eventId)) return;
    while (this.#entries.size >= this.maxEntries) await this.#dropOne();
    const file = `${String(++this.#seq).padStart(12, '0')}-${event.eventId}-${event.type}.json`;
    await this.storage.writeAtomic(`${DIR}/${file}`, JSON.stringify(event));
    this.#entries.set(event.eventId, { file, type: event.type });
  }

  /** The oldest reports not yet confirmed. */
  async pending(limit = 100): Promise<ReceiverEvent[]> {
    const oldest = [...this.#entries.values()].sort((a, b) => a.file.localeCompare(b.file)).slice(0, limit);
    const events: ReceiverEvent[] = [];
    for (const entry of oldest) {
      const raw = await this.storage.read(`${DIR}/${entry.file}`);
      try {
        if (raw) events.push(JSON.parse(raw.toString('utf8')) as ReceiverEvent);
        else this.#forget(entry);
      } catch {
        await this.storage.remove(`${DIR}/${entry.file}`);
        this.#forget(entry);
      }
    }
    return events;
  }

  /** Forgets the reports the controller has stored. */
  async confirm(eventIds: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of eventIds) {
      const entry = this.#entries.get(id);
      if (!entry) continue;
      await this.storage.remove(`${DIR}/${entry.file}`);
      this.#entries.delete(id);
      removed++;
    }
    return removed;
  }

  has(eventId: string): boolean {
    return this.#entries.has(eventId);
  }

  async #dropOne(): Promise<void> {
    let victim: Entry | undefined;
    for (const entry of this.#entries.values()) {
      if (
        !victim ||
        DROP_ORDER[entry.type] < DROP_ORDER[victim.type] ||
        (DROP_ORDER[entry.type] === DROP_ORDER[victim.type] && entry.file < victim.file)
      )
        victim = entry;
    }
    if (!victim) return;
    await this.storage.remove(`${DIR}/${victim.file}`);
    this.#forget(victim);
    this.stats.dropped++;
  }

  #forget(entry: Entry): void {
    for (const [id, e] of this.#entries) if (e === entry) this.#entries.delete(id);
  }
}
