import type { Renderer, RenderOutcome, RenderProgress } from '@loa/edge-agent';
import type { PlayableItem } from '@loa/protocols';

/** When a virtual receiver's sound started and stopped, in true time. */
export interface PlayRecord {
  receiverId: string;
  itemId: string;
  priority: PlayableItem['priority'];
  languages: string[];
  /** SHA-256 of each segment as it sounded, in order (with `languages`, what was heard). */
  segments?: string[];
  startedAt?: number;
  /** The controller time this receiver believed it was when the sound started (its clock sync). */
  startedAtControllerTime?: number;
  endedAt?: number;
  result?: RenderOutcome['result'];
}

/**
 * The virtual audio sink: wraps the agent's renderer and records exactly when each item's
 * sound starts (its first segment) and stops, in true (not the receiver's) time, so the
 * simulator can measure start latency and skew between receivers, and what the receiver
 * believed the controller's time was at that instant. A partial record (no `endedAt`) goes
 * out at the first sound, so an item still playing is seen as started; the final record,
 * with the same receiver, item and `startedAt`, replaces it (see PlayLog).
 */
export class RecordingRenderer implements Renderer {
  constructor(
    private readonly receiverId: string,
    private readonly inner: Renderer,
    private readonly record: (record: PlayRecord) => void,
    private readonly trueNow: () => number = Date.now,
    private readonly controllerTime?: () => number,
  ) {}

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    const record: PlayRecord & { segments: string[] } = {
      receiverId: this.receiverId,
      itemId: item.itemId,
      priority: item.priority,
      languages: [],
      segments: [],
    };
    const count = item.segments.length;
    const outcome = await this.inner.render(item, signal, (p) => {
      const first = record.startedAt === undefined;
      if (first) {
        record.startedAt = this.trueNow();
        // Its own idea of the time at that instant: the start error splits into the clock
        // sync's error (true − believed) and the receiver's lateness (believed − airtime).
        if (this.controllerTime) record.startedAtControllerTime = this.controllerTime();
      }
      // Progress comes as each segment starts, in order, `repeat` times over.
      const segment = item.segments[record.segments.length % Math.max(1, count)];
      record.languages.push(p.language);
      record.segments.push(segment?.sha256 ?? '');
      // A copy: the record itself goes on changing until the final one is sent.
      if (first) this.record({ ...record, languages: [...record.languages], segments: [...record.segments] });
      onProgress?.(p);
    });
    record.endedAt = this.trueNow();
    record.result = outcome.result;
    this.record(record);
    return outcome;
  }
}
