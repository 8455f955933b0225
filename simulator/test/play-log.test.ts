import { TimedRenderer } from '@loa/edge-agent';
import type { PlayableItem } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { PlayLog } from '../src/fleet/play-log.js';
import { type PlayRecord, RecordingRenderer } from '../src/fleet/recording-renderer.js';
import { driftingClock } from '../src/fleet/virtual-clock.js';

const item = (itemId: string, segmentMs: number): PlayableItem => ({
  itemId,
  title: itemId,
  priority: 'normal',
  startMode: 'hard',
  volume: 80,
  repeat: 1,
  prelude: 'none',
  segments: [
    { language: 'vie', sha256: 'a'.repeat(64), durationMs: segmentMs },
    { language: 'hmn', sha256: 'b'.repeat(64), durationMs: segmentMs },
  ],
});

describe('play records: partial at the first sound, replaced by the final one', () => {
  it('the sink records a partial record when the sound starts and the final one when it stops', async () => {
    const records: PlayRecord[] = [];
    const sink = new RecordingRenderer('rx-1', new TimedRenderer(driftingClock(0)), (r) => records.push(r));
    const playing = sink.render(item('long', 40), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 10));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ receiverId: 'rx-1', itemId: 'long', languages: ['vie'] });
    expect(records[0]?.startedAt).toBeTypeOf('number');
    expect(records[0]?.endedAt).toBeUndefined();
    await playing;
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      startedAt: records[0]?.startedAt,
      languages: ['vie', 'hmn'],
      result: 'finished',
    });
    // The partial one is a copy: it did not change as the item went on.
    expect(records[0]?.languages).toEqual(['vie']);
  });

  it('keeps one record per (receiver, item, start); take() hands them over and forgets them', () => {
    const log = new PlayLog();
    const partial = {
      receiverId: 'rx-1',
      itemId: 'a',
      priority: 'normal' as const,
      languages: ['vie'],
      startedAt: 100,
    };
    log.add(partial);
    log.add({ ...partial, receiverId: 'rx-2' });
    log.add({ ...partial, startedAt: 100, endedAt: 900, result: 'aborted' });
    // A resumption of the same item is another airing.
    log.add({ ...partial, startedAt: 2000, endedAt: 3000, result: 'finished' });
    // Never sounded (failed before its first segment): only a final record exists.
    log.add({ receiverId: 'rx-3', itemId: 'a', priority: 'normal', languages: [], endedAt: 50, result: 'failed' });
    expect(log.records.map((r) => [r.receiverId, r.startedAt, r.result])).toEqual([
      ['rx-1', 100, 'aborted'],
      ['rx-2', 100, undefined],
      ['rx-1', 2000, 'finished'],
      ['rx-3', undefined, 'failed'],
    ]);
    expect(log.take()).toHaveLength(4);
    expect(log.records).toHaveLength(0);
    // A final whose partial was taken already is added anew (the receiving side replaces it).
    log.add({ ...partial, receiverId: 'rx-2', endedAt: 950, result: 'finished' });
    expect(log.records).toHaveLength(1);
  });
});
