import type { PlayableItem } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { routeLive } from '../../src/live/route-live.js';
import type { PlayReport } from '../../src/playback/play-report.js';
import { PlaybackEngine } from '../../src/playback/playback-engine.js';
import type { Renderer } from '../../src/playback/renderer.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';
import { playable, T0 } from '../playback/helpers.js';

/** A live renderer stand-in: sounds at once, then ends as its session says. */
function liveStandIn(clock: ManualClock, rendered: string[]): Renderer {
  return {
    render: (item, _signal, onProgress) =>
      new Promise((resolve) => {
        rendered.push(item.itemId);
        onProgress?.({ repetition: 1, language: 'vie' });
        clock.setTimeout(() => resolve({ result: 'aborted', playedMs: 1500, reason: 'heartbeat_lost' }), 1500);
      }),
  };
}

describe('routing live items', () => {
  it('sends live items to the live renderer and the rest to the file renderer; the engine reports an abort reason', async () => {
    const clock = new ManualClock(T0);
    const files = new TimedRenderer(clock);
    const live: string[] = [];
    const reports: PlayReport[] = [];
    const liveIds = new Set(['3f0c8a52-5d1e-4d8e-9a51-6a4f1b9d2c77']);
    const engine = new PlaybackEngine({
      clock,
      controllerTime: () => clock.now(),
      renderer: routeLive(files, liveStandIn(clock, live), (item: PlayableItem) => liveIds.has(item.itemId)),
      report: (r) => reports.push(r),
    });
    const speech: PlayableItem = {
      ...playable('3f0c8a52-5d1e-4d8e-9a51-6a4f1b9d2c77'),
      segments: [],
      priority: 'live',
    };
    engine.submit(speech, 'live');
    await clock.advance(2000);
    engine.submit(playable('news'), 'play_now');
    await clock.advance(100);
    expect(live).toEqual([speech.itemId]);
    expect(files.rendered).toEqual(['news']);
    expect(reports.filter((r) => r.itemId === speech.itemId).map((r) => [r.state, r.reason])).toEqual([
      ['started', undefined],
      ['interrupted', 'heartbeat_lost'],
    ]);
    engine.close();
  });
});
