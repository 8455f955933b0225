import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { RenderOutcome, RenderProgress } from '../../src/playback/renderer.js';
import { itemLengthMs, PRELUDE_MS, TimedRenderer } from '../../src/playback/timed-renderer.js';
import { countingClock, playable, S, T0 } from './helpers.js';

describe('timed renderer', () => {
  it('lasts prelude + segments × repeat, reporting each segment in language order as it starts', async () => {
    const clock = new ManualClock(T0);
    const { counted, stats } = countingClock(clock);
    const renderer = new TimedRenderer(counted);
    const item = playable('x', { prelude: 'siren', repeat: 3 });
    expect(itemLengthMs(item)).toBe(PRELUDE_MS.siren + 3 * 90 * S);
    const seen: string[] = [];
    let outcome: RenderOutcome | undefined;
    void renderer
      .render(item, new AbortController().signal, (p: RenderProgress) =>
        seen.push(`${(clock.now() - T0) / S} ${p.repetition}:${p.language}`),
      )
      .then((o) => {
        outcome = o;
      });
    await clock.advance(itemLengthMs(item) - 1);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toEqual({ result: 'finished', playedMs: 270 * S });
    expect(seen).toEqual(['4 1:vie', '64 1:hmn', '94 2:vie', '154 2:hmn', '184 3:vie', '244 3:hmn']);
    expect(stats.maxPending).toBe(1); // one timer at a time, whatever the item's length
    expect(stats.pending()).toBe(0);
    expect(renderer.rendered).toEqual(['x']);
  });

  it('ends at once on abort with the sound played so far (none during the prelude)', async () => {
    const clock = new ManualClock(T0);
    const renderer = new TimedRenderer(clock);
    const during = async (ms: number) => {
      const abort = new AbortController();
      const result = renderer.render(playable('x', { prelude: 'chime' }), abort.signal);
      await clock.advance(ms);
      abort.abort();
      return result;
    };
    expect(await during(1000)).toEqual({ result: 'aborted', playedMs: 0 });
    expect(await during(31_500)).toEqual({ result: 'aborted', playedMs: 30 * S });
    expect(clock.nextDueIn()).toBeUndefined();
    const already = new AbortController();
    already.abort();
    expect(await renderer.render(playable('y'), already.signal)).toEqual({ result: 'aborted', playedMs: 0 });
  });

  it('fails an item on request or when an asset cannot be read', async () => {
    const clock = new ManualClock(T0);
    const failing = new TimedRenderer(clock, (i) => (i.itemId === 'bad' ? 'failed_to_sound' : undefined));
    expect(await failing.render(playable('bad'), new AbortController().signal)).toEqual({
      result: 'failed',
      playedMs: 0,
      reason: 'failed_to_sound',
    });
    const noAssets = new TimedRenderer(clock, undefined, async () => undefined);
    expect(await noAssets.render(playable('x'), new AbortController().signal)).toMatchObject({
      result: 'failed',
      reason: `asset_missing ${'a'.repeat(12)}`,
    });
  });

  it('keeps going when a progress listener throws', async () => {
    const clock = new ManualClock(T0);
    const renderer = new TimedRenderer(clock);
    const result = renderer.render(playable('x'), new AbortController().signal, () => {
      throw new Error('listener bug');
    });
    await clock.advance(90 * S);
    expect(await result).toEqual({ result: 'finished', playedMs: 90 * S });
  });
});
