import { describe, expect, it } from 'vitest';
import { MAX_SLEEP_MS } from '../../src/playback/playback-engine.js';
import { expectProofOfPlay, item, MIN, playable, S, setup, T0 } from './helpers.js';

describe('playing on time', () => {
  it('starts an item at its startAt, after its prelude, with its segments in language order, repeat times', async () => {
    const { engine, at, of, heard, timeline } = setup();
    engine.setSchedule({ revision: 1, items: [item('news', { startAt: T0 + 60 * S, prelude: 'chime', repeat: 2 })] });
    await at(61.499);
    expect(timeline).toEqual([]);
    await at(61.5); // 60 s + 1.5 s chime
    expect(of('news')).toEqual([
      {
        type: 'play',
        itemId: 'news',
        source: 'schedule',
        state: 'started',
        priority: 'normal',
        scheduledAt: T0 + 60 * S,
        language: 'vie',
        repetition: 1,
      },
    ]);
    await at(61.5 + 179.999);
    expect(timeline).toEqual(['61.5 news started']);
    await at(61.5 + 180);
    expect(heard('news')).toEqual(['1:vie', '1:hmn', '2:vie', '2:hmn']);
    expect(of('news')[1]).toMatchObject({ state: 'finished', playedMs: 180 * S, repetition: 2, language: 'hmn' });
    expect(timeline).toEqual(['61.5 news started', '241.5 news finished']);
  });

  it('plays on controller time (local clock + sync offset), and re-times at once on resync', async () => {
    let offset = 5 * S; // the controller is 5 s ahead of this receiver
    const { engine, clock, timeline } = setup({ offset: () => offset });
    engine.setSchedule({
      revision: 1,
      items: [item('a', { startAt: T0 + 60 * S }), item('b', { startAt: T0 + 30 * MIN })],
    });
    await clock.advance(55 * S - 1);
    expect(timeline).toEqual([]);
    await clock.advance(1);
    expect(timeline).toEqual(['55 a started']); // local time 55 s = controller time 60 s
    await clock.advance(10 * MIN - 55 * S);
    offset = 2 * MIN + 5 * S; // clock sync: the controller is in fact 2 min 5 s ahead
    engine.resync();
    // b is due at controller time 30 min = local 30 min - 125 s = 1675 s.
    await clock.advance(1675 * S - 10 * MIN - 1);
    expect(timeline).toEqual(['55 a started', '145 a finished']);
    await clock.advance(1);
    expect(timeline).toEqual(['55 a started', '145 a finished', '1675 b started']);
  });

  it('without a resync, a clock correction makes an airtime late by at most one capped sleep', async () => {
    let offset = 0;
    const { engine, clock, timeline } = setup({ offset: () => offset });
    engine.setSchedule({ revision: 1, items: [item('b', { startAt: T0 + 30 * MIN })] });
    await clock.advance(10 * MIN);
    offset = 2 * MIN;
    await clock.advance(28 * MIN + MAX_SLEEP_MS);
    const started = Number(timeline[0]?.split(' ')[0]) * S;
    expect(started).toBeGreaterThanOrEqual(28 * MIN);
    expect(started).toBeLessThanOrEqual(28 * MIN + MAX_SLEEP_MS);
  });

  it('reports an airtime missed when its endBy passed before it could start', async () => {
    const { engine, at, timeline, of } = setup();
    // The agent starts at T0, after some airtimes (it was off).
    engine.setSchedule({
      revision: 1,
      items: [
        item('old', { startAt: T0 - 10 * MIN, endBy: T0 - 1 }),
        item('late', { startAt: T0 - 30 * S, endBy: T0 + 60 * S }),
        item('blocked', { startAt: T0 + 10 * S, endBy: T0 + 50 * S, startMode: 'next' }),
      ],
    });
    await at(0);
    expect(timeline).toEqual(['0 old missed (too late)', '0 late started']);
    expect(of('late')[0]).toMatchObject({ scheduledAt: T0 - 30 * S });
    await at(49.999);
    expect(timeline).toHaveLength(2);
    await at(50);
    expect(timeline.at(-1)).toBe('50 blocked missed (busy)');
    await at(1000);
    expect(of('blocked')).toHaveLength(1);
  });

  it('treats an item without endBy as missed once it is more than the late limit late', async () => {
    const { engine, at, timeline } = setup({ engine: { lateLimitMs: 30 * MIN } });
    engine.setSchedule({
      revision: 1,
      items: [
        item('morning', { startAt: T0 - 31 * MIN }),
        item('recent', { startAt: T0 - 29 * MIN, priority: 'priority' }),
      ],
    });
    await at(0);
    expect(timeline).toEqual(['0 morning missed (too late)', '0 recent started']);
  });
});

describe('priority arbitration', () => {
  it('lets an emergency alert pre-empt a normal item, which is reported interrupted and not replayed', async () => {
    const { engine, at, timeline, of, timed } = setup();
    engine.setSchedule({ revision: 1, items: [item('news'), item('weather', { startAt: T0 + 300 * S })] });
    await at(20);
    expect(engine.submit(playable('flood', { priority: 'emergency', prelude: 'siren' }), 'alert')).toBe(true);
    await at(20);
    expect(of('news')[1]).toEqual({
      type: 'play',
      itemId: 'news',
      source: 'schedule',
      state: 'interrupted',
      priority: 'normal',
      scheduledAt: T0,
      reason: 'pre-empted',
      interruptedBy: 'flood',
      playedMs: 20 * S,
      repetition: 1,
      language: 'vie',
    });
    expect(engine.current()).toEqual({ itemId: 'flood', priority: 'emergency' });
    await at(1000);
    expect(timeline).toEqual([
      '0 news started',
      '20 news interrupted (pre-empted)',
      '24 flood started', // after the 4 s siren
      '114 flood finished',
      '300 weather started',
      '390 weather finished',
    ]);
    expect(of('flood')[0]).toMatchObject({ source: 'alert', priority: 'emergency' });
    expect(timed.rendered).toEqual(['news', 'flood', 'weather']);
  });

  it('airs a higher next item before waiting lower ones without cutting in, but an emergency always cuts in', async () => {
    const { engine, at, timeline } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('a'),
        item('b', { startAt: T0 + 10 * S, startMode: 'next' }),
        item('p', { startAt: T0 + 20 * S, startMode: 'next', priority: 'priority' }),
        item('e', { startAt: T0 + 200 * S, startMode: 'next', priority: 'emergency' }),
      ],
    });
    await at(1000);
    expect(timeline).toEqual([
      '0 a started',
      '90 a finished',
      '90 p started',
      '180 p finished',
      '180 b started',
      '200 b interrupted (pre-empted)',
      '200 e started',
      '290 e finished',
    ]);
  });

  it('hard: pre-empts lower items at startAt; behind an equal or higher item it waits like next', async () => {
    const { engine, at, timeline, of } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('n1'),
        item('n2', { startAt: T0 + 30 * S }), // hard, equal: waits for n1
        item('h', { startAt: T0 + 100 * S, priority: 'priority' }), // hard, higher: cuts n2
        item('e', { startAt: T0 + 150 * S, priority: 'emergency' }), // cuts h
        item('h2', { startAt: T0 + 160 * S, priority: 'priority' }), // hard, lower than e: waits
      ],
    });
    await at(1000);
    expect(timeline).toEqual([
      '0 n1 started',
      '90 n1 finished',
      '90 n2 started',
      '100 n2 interrupted (pre-empted)',
      '100 h started',
      '150 h interrupted (pre-empted)',
      '150 e started',
      '240 e finished',
      '240 h started (resumed)', // priority: resumed, and ahead of h2, which came later
      '330 h finished',
      '330 h2 started',
      '420 h2 finished',
    ]);
    expect(of('n2')[1]).toMatchObject({ interruptedBy: 'h' });
    expect(of('h')[1]).toMatchObject({ interruptedBy: 'e' });
  });

  it('the item that pre-empts is the one that plays, ahead of equal items already waiting', async () => {
    const { engine, at, timeline, of } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('n'),
        item('q', { startAt: T0 + 10 * S, startMode: 'next', priority: 'priority' }),
        item('h', { startAt: T0 + 20 * S, startMode: 'hard', priority: 'priority' }),
      ],
    });
    await at(1000);
    expect(timeline).toEqual([
      '0 n started',
      '20 n interrupted (pre-empted)',
      '20 h started',
      '110 h finished',
      '110 q started',
      '200 q finished',
    ]);
    expect(of('n')[1]).toMatchObject({ interruptedBy: 'h' });
  });

  it('wait: starts if the current item ends within waitS, else is skipped (busy) once waitS has passed', async () => {
    const { engine, at, timeline } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('a'),
        item('w1', { startAt: T0 + 10 * S, startMode: 'wait', waitS: 30 }),
        item('w2', { startAt: T0 + 20 * S, startMode: 'wait', waitS: 90 }),
        item('w3', { startAt: T0 + 100 * S, startMode: 'wait', waitS: 0 }),
        item('w4', { startAt: T0 + 200 * S, startMode: 'wait', waitS: 0 }),
      ],
    });
    await at(39.999);
    expect(timeline).toEqual(['0 a started']);
    await at(40);
    expect(timeline).toEqual(['0 a started', '40 w1 skipped (busy)']);
    await at(1000);
    expect(timeline).toEqual([
      '0 a started',
      '40 w1 skipped (busy)',
      '90 a finished',
      '90 w2 started',
      '100 w3 skipped (busy)',
      '180 w2 finished',
      '200 w4 started',
      '290 w4 finished',
    ]);
  });

  it('a wait item that would go first by priority is still skipped when busy', async () => {
    const { engine, at, timeline } = setup();
    engine.setSchedule({
      revision: 1,
      items: [
        item('e', { priority: 'emergency' }),
        item('w', { startAt: T0 + 10 * S, startMode: 'wait', waitS: 5, priority: 'priority' }),
      ],
    });
    await at(200);
    expect(timeline).toEqual(['0 e started', '15 w skipped (busy)', '90 e finished']);
  });
});

describe('resumption rule', () => {
  it('resumes an interrupted priority item from the start of the repetition it was in', async () => {
    const { engine, at, timeline, of, heard, timed } = setup();
    engine.setSchedule({
      revision: 1,
      items: [item('notice', { priority: 'priority', repeat: 3, endBy: T0 + 60 * MIN })],
    });
    await at(100); // 10 s into the second repetition
    engine.submit(playable('flood', { priority: 'emergency' }), 'alert');
    await at(1000);
    expect(timeline).toEqual([
      '0 notice started',
      '100 notice interrupted (pre-empted)',
      '100 flood started',
      '190 flood finished',
      '190 notice started (resumed)',
      '370 notice finished',
    ]);
    expect(of('notice')[1]).toMatchObject({
      repetition: 2,
      language: 'vie',
      playedMs: 100 * S,
      interruptedBy: 'flood',
    });
    expect(of('notice')[2]).toMatchObject({ repetition: 2, language: 'vie', scheduledAt: T0 });
    expect(of('notice')[3]).toMatchObject({ repetition: 3, language: 'hmn', playedMs: 180 * S });
    // Repetition 1 was heard whole and is not aired again; repetition 2 is aired again from its start.
    expect(heard('notice')).toEqual(['1:vie', '1:hmn', '2:vie', '2:vie', '2:hmn', '3:vie', '3:hmn']);
    expect(timed.rendered).toEqual(['notice', 'flood', 'notice']);
    expectProofOfPlay(of('notice'));
  });

  it('resumes only while the endBy of the interrupted item has not passed', async () => {
    const { engine, at, timeline } = setup();
    engine.setSchedule({ revision: 1, items: [item('notice', { priority: 'priority', endBy: T0 + 150 * S })] });
    await at(10);
    engine.submit(playable('flood', { priority: 'emergency' }), 'alert');
    await at(1000);
    expect(timeline).toEqual([
      '0 notice started',
      '10 notice interrupted (pre-empted)',
      '10 flood started',
      '100 flood finished',
      '100 notice started (resumed)', // endBy 150 s: still open when the flood warning ends
      '190 notice finished',
    ]);
    // Now one whose window closes during the emergency.
    const second = setup();
    second.engine.setSchedule({ revision: 1, items: [item('notice', { priority: 'priority', endBy: T0 + 90 * S })] });
    await second.at(10);
    second.engine.submit(playable('flood', { priority: 'emergency' }), 'alert');
    await second.at(1000);
    expect(second.timeline).toEqual([
      '0 notice started',
      '10 notice interrupted (pre-empted)',
      '10 flood started',
      '100 flood finished',
    ]);
    expect(second.engine.upcoming()).toEqual([]);
  });

  it('resumes an item without endBy only within the resume window after its interruption', async () => {
    const run = async (floodMs: number) => {
      const t = setup({ engine: { resumeWindowMs: 10 * MIN } });
      t.engine.submit(playable('notice', { priority: 'priority' }), 'play_now');
      await t.at(10);
      t.engine.submit(
        playable('flood', {
          priority: 'emergency',
          segments: [{ language: 'vie', sha256: 'b'.repeat(64), durationMs: floodMs }],
        }),
        'alert',
      );
      await t.at(3600);
      return t.of('notice').map((r) => r.state);
    };
    expect(await run(9 * MIN)).toEqual(['started', 'interrupted', 'started', 'finished']);
    expect(await run(11 * MIN)).toEqual(['started', 'interrupted']);
  });

  it('does not replay a normal item, nor one stopped, withdrawn or cut by live speech', async () => {
    const { engine, at, of } = setup();
    engine.setSchedule({
      revision: 1,
      items: [item('normal'), item('stopped', { startAt: T0 + 200 * S, priority: 'priority' })],
    });
    await at(10);
    engine.submit(playable('alert-1', { priority: 'emergency' }), 'alert');
    await at(210);
    engine.stop({ itemId: 'stopped' });
    await at(215);
    engine.submit(playable('live-1', { priority: 'live' }), 'live');
    await at(220);
    engine.submit(playable('alert-2', { priority: 'emergency' }), 'alert'); // cuts the live speech
    await at(2000);
    expect(of('normal').map((r) => r.state)).toEqual(['started', 'interrupted']);
    expect(of('stopped').map((r) => r.state)).toEqual(['started', 'interrupted']);
    expect(of('live-1').map((r) => r.state)).toEqual(['started', 'interrupted']);
    expect(of('live-1')[1]).toMatchObject({ source: 'live', interruptedBy: 'alert-2' });
  });
});

describe('stop', () => {
  it('stops by priority ceiling and by item, including waiting and not-yet-due items', async () => {
    const { engine, at, timeline } = setup();
    engine.submit(playable('p', { priority: 'priority' }), 'play_now');
    engine.setSchedule({
      revision: 1,
      items: [item('n', { startAt: T0 + 5 * S, startMode: 'next' }), item('f', { startAt: T0 + 60 * MIN })],
    });
    await at(10);
    expect(engine.stop({ upToPriority: 'normal' })).toBe(1); // the waiting normal item, not p
    expect(engine.current()).toEqual({ itemId: 'p', priority: 'priority' });
    expect(engine.stop({ itemId: 'f' })).toBe(1);
    expect(engine.upcoming()).toEqual([]);
    await at(20);
    expect(engine.stop({ itemId: 'p' })).toBe(1);
    await at(20);
    expect(engine.current()).toBeNull();
    expect(engine.stop({ itemId: 'p' })).toBe(0);
    await at(2 * 3600);
    expect(timeline).toEqual([
      '0 p started',
      '10 n skipped (stopped)',
      '10 f skipped (stopped)',
      '20 p interrupted (stopped)',
    ]);
  });

  it('stop with a ceiling cuts the playing item at or below it; with nothing given, stops everything', async () => {
    const { engine, at, timeline } = setup();
    engine.submit(playable('p', { priority: 'priority' }), 'play_now');
    engine.submit(playable('q', { priority: 'priority', startMode: 'next' }), 'play_now');
    await at(10);
    expect(engine.stop({ upToPriority: 'normal' })).toBe(0);
    expect(engine.stop({})).toBe(2);
    await at(500);
    expect(timeline).toEqual(['0 p started', '10 q skipped (stopped)', '10 p interrupted (stopped)']);
    engine.submit(playable('e', { priority: 'emergency' }), 'alert');
    await at(520);
    expect(engine.stop({ upToPriority: 'live' })).toBe(0);
    expect(engine.stop({ upToPriority: 'emergency' })).toBe(1);
    await at(600);
    expect(timeline.at(-1)).toBe('520 e interrupted (stopped)');
  });
});

describe('schedule revisions', () => {
  it('a new revision replaces the timeline: withdrawn items stop, moved ones follow; older revisions are ignored', async () => {
    const { engine, at, timeline } = setup();
    expect(engine.revision).toBe(-1);
    engine.setSchedule({
      revision: 5,
      items: [item('x'), item('y', { startAt: T0 + 60 * S, startMode: 'next' }), item('z', { startAt: T0 + 500 * S })],
    });
    await at(70);
    expect(engine.setSchedule({ revision: 4, items: [] })).toBe(false);
    expect(engine.setSchedule({ revision: 5, items: [] })).toBe(false);
    expect(engine.current()?.itemId).toBe('x');
    expect(
      engine.setSchedule({
        revision: 6,
        items: [item('w', { startAt: T0 + 300 * S }), item('z', { startAt: T0 + 400 * S })],
      }),
    ).toBe(true);
    expect(engine.revision).toBe(6);
    await at(410);
    // z is on air; a revision that keeps it leaves it alone.
    engine.setSchedule({ revision: 7, items: [item('z', { startAt: T0 + 400 * S })] });
    await at(2000);
    expect(timeline).toEqual([
      '0 x started',
      '70 y skipped (withdrawn)',
      '70 x interrupted (withdrawn)',
      '300 w started',
      '390 w finished',
      '400 z started',
      '490 z finished',
    ]);
  });

  it('takes the full provision body', async () => {
    const { engine, at, timeline } = setup();
    engine.setSchedule({
      revision: 1,
      horizonStart: T0,
      horizonEnd: T0 + 86_400_000,
      items: [item('a', { startAt: T0 + S })],
      assets: [],
    });
    await at(1);
    expect(timeline).toEqual(['1 a started']);
  });
});

describe('state for the heartbeat and the CLI', () => {
  it('current(), nowPlaying() and upcoming()', async () => {
    const { engine, at } = setup();
    expect(engine.current()).toBeNull();
    expect(engine.nowPlaying()).toBeNull();
    engine.setSchedule({
      revision: 1,
      items: [
        item('a', { title: 'Tin sáng' }),
        item('b', { startAt: T0 + 10 * S, startMode: 'next' }),
        item('c', { startAt: T0 + 20 * S, startMode: 'next', priority: 'priority' }),
        item('d', { startAt: T0 + 3600 * S }),
        item('e', { startAt: T0 + 7200 * S }),
      ],
    });
    await at(65);
    expect(engine.current()).toEqual({ itemId: 'a', priority: 'normal' });
    expect(engine.nowPlaying()).toEqual({
      itemId: 'a',
      priority: 'normal',
      source: 'schedule',
      repetition: 1,
      language: 'hmn',
      soundAt: T0,
      stopping: false,
    });
    expect(engine.upcoming()).toEqual([
      { itemId: 'c', priority: 'priority', startAt: T0 + 20 * S, state: 'waiting' },
      { itemId: 'b', priority: 'normal', startAt: T0 + 10 * S, state: 'waiting' },
      { itemId: 'd', priority: 'normal', startAt: T0 + 3600 * S, state: 'scheduled' },
      { itemId: 'e', priority: 'normal', startAt: T0 + 7200 * S, state: 'scheduled' },
    ]);
    expect(engine.upcoming(3).map((u) => u.itemId)).toEqual(['c', 'b', 'd']);
    engine.setSchedule({ revision: 2, items: [item('a', { title: 'Tin sáng', startAt: T0 + 9000 * S })] });
    expect(engine.upcoming()).toEqual([]);
  });
});

describe('robustness', () => {
  it('reports a renderer failure with its reason, and goes on with the next item', async () => {
    const { engine, at, timeline } = setup({ fail: (i) => (i.itemId === 'broken' ? 'asset_missing abc' : undefined) });
    engine.setSchedule({ revision: 1, items: [item('broken'), item('next', { startAt: T0 + S, startMode: 'next' })] });
    await at(200);
    expect(timeline).toEqual(['0 broken failed (asset_missing abc)', '1 next started', '91 next finished']);
  });

  it('turns a failure to sound mid-item, a thrown error and a rejection into failed reports', async () => {
    const { engine, at, timeline, of } = setup({
      renderer: (clock, timed) => ({
        render(i, signal, onProgress) {
          if (i.itemId === 'throws') throw new Error('device busy');
          if (i.itemId === 'rejects') return Promise.reject(new Error('decoder crashed'));
          if (i.itemId === 'line')
            return new Promise((resolve) => {
              onProgress?.({ repetition: 1, language: 'vie' });
              clock.setTimeout(
                () =>
                  resolve({
                    result: 'failed',
                    playedMs: 5000,
                    reason: 'failed_to_sound: speaker_line_open',
                    fault: 'speaker_line_open',
                  }),
                5000,
              );
            });
          return timed.render(i, signal, onProgress);
        },
      }),
    });
    engine.setSchedule({
      revision: 1,
      items: [
        item('throws'),
        item('rejects', { startAt: T0 + S }),
        item('line', { startAt: T0 + 2 * S }),
        item('ok', { startAt: T0 + 3 * S, startMode: 'next' }),
      ],
    });
    await at(200);
    expect(timeline).toEqual([
      '0 throws failed (renderer_error: device busy)',
      '1 rejects failed (renderer_error: decoder crashed)',
      '2 line started',
      '7 line failed (failed_to_sound: speaker_line_open)',
      '7 ok started',
      '97 ok finished',
    ]);
    expect(of('line')[1]).toMatchObject({ playedMs: 5000, repetition: 1, language: 'vie' });
  });

  it('owes a started report before finished when a renderer sounded without reporting progress', async () => {
    const { engine, at, timeline, of } = setup({
      renderer: (clock) => ({
        render: () =>
          new Promise((resolve) => clock.setTimeout(() => resolve({ result: 'finished', playedMs: 3000 }), 3000)),
      }),
    });
    engine.submit(playable('quiet'), 'play_now');
    await at(10);
    expect(timeline).toEqual(['3 quiet started', '3 quiet finished']);
    expect(of('quiet')[0]).toMatchObject({ repetition: 1, source: 'play_now' });
    expect(of('quiet')[0]).not.toHaveProperty('scheduledAt');
  });

  it('keeps playing when the report callback throws', async () => {
    const { engine, at, timeline } = setup({
      engine: {
        report: () => {
          throw new Error('disk full');
        },
      },
    });
    engine.setSchedule({ revision: 1, items: [item('a'), item('b', { startAt: T0 + 100 * S })] });
    await at(300);
    expect(timeline).toEqual([]); // our recorder was replaced by the throwing one
    expect(engine.current()).toBeNull();
    expect(engine.handled().map(([id]) => id)).toEqual(['a', 'b']);
  });

  it('does not let a renderer that ignores aborts hold up an emergency', async () => {
    const { engine, at, timeline, of } = setup({
      engine: { abortGraceMs: 2000 },
      renderer: (_clock, timed) => ({
        render: (i, signal, onProgress) =>
          i.itemId === 'stuck'
            ? new Promise(() => onProgress?.({ repetition: 1, language: 'vie' }))
            : timed.render(i, signal, onProgress),
      }),
    });
    engine.setSchedule({ revision: 1, items: [item('stuck')] });
    await at(10);
    engine.submit(playable('flood', { priority: 'emergency' }), 'alert');
    await at(11.999);
    expect(timeline).toEqual(['0 stuck started']);
    await at(12);
    expect(timeline).toEqual(['0 stuck started', '12 stuck interrupted (pre-empted)', '12 flood started']);
    expect(of('stuck')[1]).toMatchObject({ interruptedBy: 'flood', playedMs: 12 * S });
  });

  it('gives up on a renderer that never ends (watchdog) and reports it failed', async () => {
    const { engine, at, timeline } = setup({
      renderer: (_clock, timed) => ({
        render: (i, signal, onProgress) =>
          i.itemId === 'hung' ? new Promise(() => {}) : timed.render(i, signal, onProgress),
      }),
    });
    engine.setSchedule({ revision: 1, items: [item('hung'), item('after', { startAt: T0 + S, startMode: 'next' })] });
    // 90 s item: the watchdog allows 2 × (90 + 30) + 60 = 300 s, then the abort gets its 2 s grace.
    await at(299);
    expect(timeline).toEqual([]);
    await at(400);
    expect(timeline).toEqual(['302 hung failed (renderer_timeout)', '302 after started', '392 after finished']);
  });

  it('remembers handled items across a restart, and refuses a duplicate item id', async () => {
    const first = setup();
    first.engine.setSchedule({ revision: 1, items: [item('a'), item('b', { startAt: T0 + 200 * S })] });
    await first.at(100);
    const handled = first.engine.handled();
    expect(handled.map(([id]) => id)).toEqual(['a']);
    expect(first.engine.submit(playable('a'), 'play_now')).toBe(false);

    const second = setup({ engine: { handled } });
    second.engine.setSchedule({ revision: 1, items: [item('a'), item('b', { startAt: T0 + 200 * S })] });
    await second.at(400);
    expect(second.timeline).toEqual(['200 b started', '290 b finished']);
  });

  it('close() aborts the item on air and leaves no timer behind', async () => {
    const { engine, at, timeline, clock, stats } = setup();
    engine.setSchedule({ revision: 1, items: [item('a'), item('b', { startAt: T0 + 3600 * S })] });
    await at(10);
    engine.close();
    await at(10);
    expect(stats.pending()).toBe(0);
    expect(clock.nextDueIn()).toBeUndefined();
    await at(7200);
    expect(timeline).toEqual(['0 a started', '10 a interrupted (shutdown)']);
    expect(engine.submit(playable('c'), 'play_now')).toBe(false);
  });
});

describe('scale and determinism', () => {
  it('handles 1000 provisioned items with a single engine timer', async () => {
    const { engine, clock, stats, reports, timed } = setup();
    const items = Array.from({ length: 1000 }, (_, i) =>
      item(`i${i}`, {
        startAt: T0 + i * 20 * S,
        segments: [{ language: 'vie', sha256: 'c'.repeat(64), durationMs: 10 * S }],
        endBy: T0 + i * 20 * S + 5 * S,
      }),
    );
    engine.setSchedule({ revision: 1, items: [...items].reverse() });
    expect(stats.pending()).toBe(1);
    await clock.advance(1000 * 20 * S);
    expect(stats.maxPending).toBe(1);
    expect(reports.filter((r) => r.state === 'finished')).toHaveLength(1000);
    expect(reports).toHaveLength(2000);
    expect(timed.rendered.slice(0, 3)).toEqual(['i0', 'i1', 'i2']);
    // Each airtime woke the engine a bounded number of times (no per-item timers, no tight polling).
    expect(stats.created).toBeLessThan(4 * 1000);
    expect(stats.pending()).toBe(0);
    expectProofOfPlay(reports);
  });

  it('sleeps until the next airtime with at most one timer, re-checking at most every MAX_SLEEP_MS', async () => {
    const { engine, clock, stats } = setup();
    engine.setSchedule({ revision: 1, items: [item('far', { startAt: T0 + 5 * 3600 * S })] });
    await clock.advance(5 * 3600 * S - 1);
    expect(stats.maxPending).toBe(1);
    expect(stats.created).toBeLessThanOrEqual((5 * 3600 * S) / MAX_SLEEP_MS + 1);
    expect(engine.current()).toBeNull();
    await clock.advance(1);
    expect(engine.current()?.itemId).toBe('far');
  });

  it('gives the same report sequence for the same inputs on the same clock', async () => {
    const run = async () => {
      const t = setup();
      const items = Array.from({ length: 300 }, (_, i) =>
        item(`i${i}`, {
          startAt: T0 + (i % 60) * 37 * S,
          priority: (['normal', 'priority', 'emergency', 'normal', 'live'] as const)[i % 5],
          startMode: (['hard', 'next', 'wait'] as const)[i % 3],
          waitS: (i % 7) * 10,
          repeat: 1 + (i % 3),
          prelude: (['none', 'chime', 'siren'] as const)[i % 3],
          ...(i % 4 === 0 ? {} : { endBy: T0 + (i % 60) * 37 * S + (i % 11) * 60 * S }),
        }),
      );
      t.engine.setSchedule({ revision: 1, items });
      await t.at(300);
      t.engine.submit(playable('alert', { priority: 'emergency', repeat: 2 }), 'alert');
      await t.at(900);
      t.engine.stop({ upToPriority: 'priority' });
      await t.at(1500);
      t.engine.setSchedule({ revision: 2, items: items.filter((_, i) => i % 5 !== 0) });
      await t.at(4 * 3600);
      return { timeline: t.timeline, reports: t.reports };
    };
    const first = await run();
    expect(first.timeline.length).toBeGreaterThan(300);
    expect(new Set(first.reports.map((r) => r.state))).toEqual(
      new Set(['started', 'finished', 'interrupted', 'skipped', 'missed']),
    );
    expectProofOfPlay(first.reports);
    const second = await run();
    expect(second.reports).toEqual(first.reports);
    expect(second.timeline).toEqual(first.timeline);
  });
});
