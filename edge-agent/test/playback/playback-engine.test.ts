import type { PlayableItem, ScheduledItem } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { PlayReport } from '../../src/playback/play-report.js';
import { PlaybackEngine } from '../../src/playback/playback-engine.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';

const T0 = Date.parse('2026-11-23T23:00:00Z');
const SHA = 'a'.repeat(64);

function item(id: string, over: Partial<ScheduledItem> = {}): ScheduledItem {
  return {
    itemId: id,
    priority: 'normal',
    startMode: 'hard',
    volume: 80,
    repeat: 1,
    prelude: 'none',
    segments: [
      { language: 'vie', sha256: SHA, durationMs: 60_000 },
      { language: 'hmn', sha256: SHA, durationMs: 30_000 },
    ],
    startAt: T0 + 60_000,
    ...over,
  };
}

function setup(fail?: (item: PlayableItem) => string | undefined) {
  const clock = new ManualClock(T0);
  const reports: PlayReport[] = [];
  const renderer = new TimedRenderer(clock, fail);
  const engine = new PlaybackEngine({
    clock,
    controllerTime: () => clock.now(),
    renderer,
    report: (r) => reports.push(r),
  });
  const states = () => reports.map((r) => `${r.itemId} ${r.state}${r.reason ? ` (${r.reason})` : ''}`);
  return { clock, reports, engine, renderer, states };
}

describe('playback engine', () => {
  it('plays a provisioned item at its time, segments in language order, and reports it', async () => {
    const { clock, engine, reports, states } = setup();
    engine.setSchedule({ revision: 1, items: [item('news')] });
    await clock.advance(59_999);
    expect(reports).toEqual([]);
    await clock.advance(1);
    expect(states()).toEqual(['news started']);
    expect(reports[0]).toMatchObject({ language: 'vie', repetition: 1, scheduledAt: T0 + 60_000, source: 'schedule' });
    await clock.advance(90_000);
    expect(states()).toEqual(['news started', 'news finished']);
    expect(reports[1]).toMatchObject({ playedMs: 90_000, language: 'hmn' });
  });

  it('lets an emergency pre-empt a normal item, which is recorded interrupted and not replayed', async () => {
    const { clock, engine, reports, states, renderer } = setup();
    engine.setSchedule({ revision: 1, items: [item('news', { startAt: T0 })] });
    await clock.advance(20_000);
    engine.submit(item('flood', { priority: 'emergency', prelude: 'siren' }), 'alert');
    await clock.advance(0);
    expect(states()).toEqual(['news started', 'news interrupted (pre-empted)']);
    expect(reports[1]).toMatchObject({ interruptedBy: 'flood', playedMs: 20_000 });
    await clock.advance(200_000);
    expect(states().slice(2)).toEqual(['flood started', 'flood finished']);
    expect(renderer.rendered).toEqual(['news', 'flood']);
  });

  it('resumes an interrupted priority item from the repetition it was in, within its window', async () => {
    const { clock, engine, renderer, reports } = setup();
    engine.setSchedule({
      revision: 1,
      items: [item('notice', { startAt: T0, priority: 'priority', repeat: 3, endBy: T0 + 3_600_000 })],
    });
    await clock.advance(100_000); // into the second repetition
    engine.submit(item('flood', { priority: 'emergency' }), 'alert');
    await clock.advance(90_000 + 1);
    await clock.advance(300_000);
    expect(renderer.rendered).toEqual(['notice', 'flood', 'notice']);
    const last = reports.filter((r) => r.itemId === 'notice').at(-1);
    expect(last).toMatchObject({ state: 'finished', repetition: 2 });
  });

  it('waits behind an equal item in next mode, and skips a wait item after waitS', async () => {
    const { clock, engine, states } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('a', { startAt: T0 }),
        item('b', { startAt: T0 + 10_000, startMode: 'next' }),
        item('c', { startAt: T0 + 10_000, startMode: 'wait', waitS: 30 }),
        item('d', { startAt: T0 + 20_000, startMode: 'hard' }),
      ],
    });
    await clock.advance(400_000);
    expect(states()).toEqual([
      'a started',
      'c skipped (busy)',
      'a finished',
      'b started',
      'b finished',
      'd started',
      'd finished',
    ]);
  });

  it('reports an airtime missed when it could not start before its end', async () => {
    const { clock, engine, states } = setup();
    clock.jump(0);
    engine.setSchedule({
      revision: 1,
      items: [
        item('old', { startAt: T0 - 600_000, endBy: T0 - 1 }),
        item('late', { startAt: T0 - 30_000, endBy: T0 + 60_000 }),
      ],
    });
    await clock.advance(0);
    expect(states()).toEqual(['old missed (too late)', 'late started']);
  });

  it('stops a withdrawn item when a newer revision arrives, and ignores older revisions', async () => {
    const { clock, engine, states } = setup();
    engine.setSchedule({ revision: 5, items: [item('x', { startAt: T0 }), item('y', { startAt: T0 + 500_000 })] });
    await clock.advance(1000);
    expect(engine.setSchedule({ revision: 4, items: [] })).toBe(false);
    expect(engine.setSchedule({ revision: 6, items: [item('y', { startAt: T0 + 500_000 })] })).toBe(true);
    await clock.advance(600_000);
    expect(states()).toEqual(['x started', 'x interrupted (withdrawn)', 'y started', 'y finished']);
  });

  it('stops by item and by priority ceiling', async () => {
    const { clock, engine, states } = setup();
    engine.submit(item('p', { priority: 'priority' }), 'play_now');
    await clock.advance(5000);
    expect(engine.stop({ upToPriority: 'normal' })).toBe(0);
    expect(engine.stop({ itemId: 'p' })).toBe(1);
    await clock.advance(0);
    expect(states()).toEqual(['p started', 'p interrupted (stopped)']);
  });

  it('reports a renderer failure with its reason', async () => {
    const { clock, engine, states } = setup(() => 'asset_missing');
    engine.submit(item('broken'), 'play_now');
    await clock.advance(0);
    expect(states()).toEqual(['broken failed (asset_missing)']);
  });

  it('is deterministic: the same schedule on the same clock gives the same reports', async () => {
    const run = async () => {
      const { clock, engine, states } = setup();
      const items = Array.from({ length: 200 }, (_, i) =>
        item(`i${i}`, {
          startAt: T0 + (i % 50) * 45_000,
          priority: (['normal', 'priority', 'emergency'] as const)[i % 3],
          startMode: (['hard', 'next', 'wait'] as const)[i % 3],
          waitS: 20,
          endBy: T0 + (i % 50) * 45_000 + 600_000,
        }),
      );
      engine.setSchedule({ revision: 1, items });
      await clock.advance(3 * 3_600_000);
      return states();
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(200);
    expect(await run()).toEqual(first);
  });
});
