import {
  type AssetRef,
  AssetRef as AssetRefSchema,
  type CommandBody,
  type CommandTarget,
  ScheduledItem,
  type ScheduledItem as ScheduledItemType,
} from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import type { Storage } from './hardware/seams.js';
import { DurableDocument } from './store/durable-document.js';

/**
 * The receiver's provisioned schedules, one per command target: the controller sends
 * the village, each area above it and the receiver itself their own schedule, each with
 * its own revisions. The player gets their union. Saved before it is acted on, so a
 * receiver that reboots (or loses its link) keeps playing what it was given.
 */
const BookSchema = Type.Object({
  targets: Type.Record(
    Type.String(),
    Type.Object({
      revision: Type.Integer(),
      horizonEnd: Type.Number(),
      items: Type.Array(ScheduledItem),
      assets: Type.Array(AssetRefSchema),
    }),
  ),
  /** Item ids already played or reported, with when: nothing plays twice after a restart. */
  handled: Type.Array(Type.Tuple([Type.String(), Type.Number()])),
});

export function targetKeyOf(target: CommandTarget): string {
  return target.type === 'receiver' ? `receiver:${target.receiverId}` : `${target.level}:${target.areaCode}`;
}

export class ScheduleBook {
  #book: (typeof BookSchema)['static'] = { targets: {}, handled: [] };

  private constructor(private readonly doc: DurableDocument<typeof BookSchema>) {}

  static async open(storage: Storage, onCorrupt?: (name: string, problem: string) => void): Promise<ScheduleBook> {
    const doc = new DurableDocument(
      storage,
      'schedule.json',
      BookSchema,
      () => ({ targets: {}, handled: [] }),
      onCorrupt,
    );
    const book = new ScheduleBook(doc);
    book.#book = await doc.load();
    return book;
  }

  /** Records a target's new schedule; false (nothing changed) for a revision not newer than the one held. */
  async accept(target: CommandTarget, body: CommandBody<'schedule.provision'>): Promise<boolean> {
    const key = targetKeyOf(target);
    const held = this.#book.targets[key];
    if (held && body.revision <= held.revision) return false;
    this.#book.targets[key] = {
      revision: body.revision,
      horizonEnd: body.horizonEnd,
      items: body.items,
      assets: body.assets,
    };
    await this.doc.save(this.#book);
    return true;
  }

  /** Every target's items, each once, in time order. */
  items(): ScheduledItemType[] {
    const byId = new Map<string, ScheduledItemType>();
    for (const t of Object.values(this.#book.targets)) for (const i of t.items) byId.set(i.itemId, i);
    return [...byId.values()].sort((a, b) => a.startAt - b.startAt);
  }

  assets(): AssetRef[] {
    const bySha = new Map<string, AssetRef>();
    for (const t of Object.values(this.#book.targets)) for (const a of t.assets) bySha.set(a.sha256, a);
    return [...bySha.values()];
  }

  /** The newest revision held (for the heartbeat's scheduleVersion). */
  version(): number | undefined {
    const revisions = Object.values(this.#book.targets).map((t) => t.revision);
    return revisions.length ? Math.max(...revisions) : undefined;
  }

  handled(): Array<[string, number]> {
    return this.#book.handled;
  }

  async saveHandled(handled: Array<[string, number]>): Promise<void> {
    this.#book.handled = handled;
    await this.doc.save(this.#book);
  }
}
