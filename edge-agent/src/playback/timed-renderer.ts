import type { PlayableItem } from '@loa/protocols';
import type { Clock } from '../hardware/seams.js';
import type { Renderer, RenderOutcome, RenderProgress } from './renderer.js';

/** Prelude lengths the timing-only renderer assumes (the real chime and siren are about this long). */
export const PRELUDE_MS = { none: 0, chime: 1500, siren: 4000 } as const;

/**
 * A renderer that only keeps time: each segment lasts its durationMs on the clock. Used by
 * unit tests and by the simulator, where thousands of receivers "play" on a virtual clock.
 */
export class TimedRenderer implements Renderer {
  readonly rendered: string[] = [];

  constructor(
    private readonly clock: Clock,
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
    const steps: Array<{ ms: number; progress?: RenderProgress }> = [{ ms: PRELUDE_MS[item.prelude] }];
    for (let repetition = 1; repetition <= item.repeat; repetition++)
      for (const segment of item.segments)
        steps.push({ ms: segment.durationMs, progress: { repetition, language: segment.language } });
    const started = this.clock.monotonic();
    return new Promise((resolve) => {
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      let index = 0;
      const played = () => Math.max(0, this.clock.monotonic() - started - PRELUDE_MS[item.prelude]);
      const onAbort = () => {
        if (timer) this.clock.clearTimeout(timer);
        resolve({ result: 'aborted', playedMs: Math.round(played()) });
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const next = () => {
        const step = steps[index++];
        if (!step) {
          signal.removeEventListener('abort', onAbort);
          return resolve({ result: 'finished', playedMs: Math.round(played()) });
        }
        if (step.progress) onProgress?.(step.progress);
        timer = this.clock.setTimeout(next, step.ms);
      };
      next();
    });
  }
}
