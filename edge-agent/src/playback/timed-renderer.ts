import type { PlayableItem } from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';
import type { Renderer, RenderOutcome, RenderProgress } from './renderer.js';

/** Prelude lengths the timing-only renderer assumes (the real chime and siren are about this long). */
export const PRELUDE_MS = { none: 0, chime: 1500, siren: 4000 } as const;

/** How long an item lasts on a timing-only renderer: prelude + segments × repeat. */
export function itemLengthMs(item: PlayableItem): number {
  let segments = 0;
  for (const s of item.segments) segments += s.durationMs;
  return PRELUDE_MS[item.prelude] + segments * item.repeat;
}

/**
 * A renderer that only keeps time: the prelude lasts PRELUDE_MS, then each segment its
 * durationMs, in order, `repeat` times, on the given clock; progress is reported as each
 * segment starts, and an abort ends it at once. Used by unit tests and by the simulator,
 * where thousands of receivers "play" on one clock: one pending timer per playing item,
 * nothing allocated per segment.
 */
export class TimedRenderer implements Renderer {
  /** Ids of the items it was asked to render, in order. */
  readonly rendered: string[] = [];

  constructor(
    private readonly clock: Clock,
    /** Returns a reason to make an item fail at once (tests). */
    private readonly fail?: (item: PlayableItem) => string | undefined,
    /** When given, every segment's asset must be readable (verified) or the item fails, as on a receiver. */
    private readonly readAsset?: (sha256: string) => Promise<Buffer | undefined>,
  ) {}

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    this.rendered.push(item.itemId);
    const failure = this.fail?.(item);
    if (failure) return { result: 'failed', playedMs: 0, reason: failure };
    if (this.readAsset)
      for (const segment of item.segments)
        if (!(await this.readAsset(segment.sha256)))
          return { result: 'failed', playedMs: 0, reason: `asset_missing ${segment.sha256.slice(0, 12)}` };
    return this.#play(item, signal, onProgress);
  }

  #play(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    const { clock } = this;
    const preludeMs = PRELUDE_MS[item.prelude];
    const count = item.segments.length;
    const steps = count * item.repeat;
    const started = clock.monotonic();
    const played = () => Math.max(0, Math.round(clock.monotonic() - started - preludeMs));
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      /** Index of the next segment to start, over all repetitions. */
      let step = 0;
      const onAbort = () => {
        if (timer) clock.clearTimeout(timer);
        timer = undefined;
        resolve({ result: 'aborted', playedMs: played() });
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const next = () => {
        timer = undefined;
        if (signal.aborted) return;
        if (step >= steps) {
          signal.removeEventListener('abort', onAbort);
          return resolve({ result: 'finished', playedMs: played() });
        }
        const segment = item.segments[step % count] as PlayableItem['segments'][number];
        const repetition = Math.floor(step / count) + 1;
        step++;
        try {
          onProgress?.({ repetition, language: segment.language });
        } catch {
          // A listener's error must not stop the sound.
        }
        // The listener may have aborted us from inside onProgress.
        if (!signal.aborted) timer = clock.setTimeout(next, segment.durationMs);
      };
      if (preludeMs > 0) timer = clock.setTimeout(next, preludeMs);
      else next();
    });
  }
}
