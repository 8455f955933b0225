import type { PlayRecord } from './recording-renderer.js';

/**
 * Play records kept one per sounding: (receiver, item, start). A render is recorded twice
 * — a partial record when its sound starts (no `endedAt`), the final one when it stops —
 * and the final takes the partial's place, so a long item counts as started while it
 * plays and is still counted once.
 */
export class PlayLog {
  readonly records: PlayRecord[] = [];
  /** Index in `records` of each partial record still waiting for its final one. */
  readonly #partials = new Map<string, number>();

  add(record: PlayRecord): void {
    // A render that never sounded has no partial record to replace.
    if (record.startedAt === undefined) {
      this.records.push(record);
      return;
    }
    const key = `${record.receiverId}\u0000${record.itemId}\u0000${record.startedAt}`;
    const at = this.#partials.get(key);
    if (at !== undefined) this.records[at] = record;
    else this.records.push(record);
    if (record.endedAt === undefined) this.#partials.set(key, at ?? this.records.length - 1);
    else this.#partials.delete(key);
  }

  /** Hands over every record so far and forgets them (a later final is then added anew). */
  take(): PlayRecord[] {
    this.#partials.clear();
    return this.records.splice(0);
  }
}
