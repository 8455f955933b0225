import { AlertIssueBody, type CommandBody, validate } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ActiveAlerts, AlertKeeper, airingId } from '../../src/alerts/alert-keeper.js';
import { nextInWindow } from '../../src/alerts/repeat-window.js';
import { DurableDocument } from '../../src/store/durable-document.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { item, MIN, playable, S, setup, T0 } from '../playback/helpers.js';

// T0 is 2026-11-23T23:00Z: 06:00 in Vietnam.
const H = 60 * MIN;

function issue(over: Partial<CommandBody<'alert.issue'>> = {}): CommandBody<'alert.issue'> {
  return {
    alertId: 'storm-3',
    revision: 0,
    status: 'Actual',
    hazard: 'storm',
    riskLevel: 4,
    priority: 'emergency',
    headline: { vie: 'Bão số 3' },
    item: playable('x', {
      priority: 'emergency',
      startMode: 'hard',
      segments: [{ language: 'vie', sha256: 'a'.repeat(64), durationMs: 20 * S }],
    }),
    alertExpiresAt: T0 + 12 * H,
    assets: [],
    ...over,
  };
}

function rig(storage = new MemoryStorage()) {
  const s = setup();
  const fetched: string[][] = [];
  const keeper = new AlertKeeper({
    clock: s.clock,
    controllerTime: () => s.clock.now(),
    submit: (i, endBy) => s.engine.submit(i, 'alert', endBy),
    stop: (request) => s.engine.stop(request),
    fetch: async (assets) => {
      fetched.push(assets.map((a) => a.sha256));
    },
    store: new DurableDocument(storage, 'alerts.json', ActiveAlerts, () => []),
    log: () => {},
  });
  return { ...s, keeper, storage, fetched };
}

describe('alert keeper', () => {
  it('airs an alert at once, interrupting a normal item, and only once without a repeat policy', async () => {
    const r = rig();
    r.engine.setSchedule({ revision: 1, items: [item('news', { startAt: T0 })] });
    await r.at(10);
    await r.keeper.issue(issue());
    await r.at(11);
    expect(r.states()).toEqual([
      'news started',
      'news interrupted (pre-empted)',
      `${airingId('storm-3', 0, 0)} started`,
    ]);
    await r.at(3 * 3600);
    expect(r.of(airingId('storm-3', 0, 1))).toEqual([]);
    expect(r.keeper.active()[0]).toMatchObject({ airings: 1, nextAt: null });
  });

  it('repeats within the daily window of Vietnam time until it expires', async () => {
    const r = rig();
    // Every 30 min, only between 06:45 and 07:15; expires at 08:00 (Vietnam time).
    await r.keeper.issue(
      issue({ repeat: { everyS: 1800, windowStart: '06:45', windowEnd: '07:15' }, alertExpiresAt: T0 + 2 * H }),
    );
    await r.at(3 * 3600);
    const starts = r.timeline.filter((line) => line.endsWith(' started'));
    // 06:00 at once; 06:30 is outside the window, so 06:45; 07:15 is its end, so the next day.
    expect(starts).toEqual([`0 ${airingId('storm-3', 0, 0)} started`, `2700 ${airingId('storm-3', 0, 1)} started`]);
    expect(r.keeper.active()).toEqual([]); // expired at 08:00 and forgotten
  });

  it('cancels in one action: the airing stops at once, no more repeats, the message airs', async () => {
    const r = rig();
    await r.keeper.issue(issue({ repeat: { everyS: 600 } }));
    await r.at(5);
    await r.keeper.cancel({
      alertId: 'storm-3',
      reason: 'issued by mistake',
      message: playable('storm-3-cancelled', {
        priority: 'emergency',
        segments: [{ language: 'vie', sha256: 'b'.repeat(64), durationMs: 5 * S }],
      }),
      assets: [],
    });
    await r.at(3600);
    expect(r.states()).toEqual([
      `${airingId('storm-3', 0, 0)} started`,
      `${airingId('storm-3', 0, 0)} interrupted (stopped)`,
      'storm-3-cancelled started',
      'storm-3-cancelled finished',
    ]);
    expect(r.keeper.active()).toEqual([]);
  });

  it('replaces an alert in flight with its Update, and ignores an older or repeated revision', async () => {
    const r = rig();
    await r.keeper.issue(issue());
    await r.at(5);
    await r.keeper.issue(issue({ revision: 1, headline: { vie: 'Bão số 3 đổi hướng' } }));
    await r.keeper.issue(issue({ revision: 1 }));
    await r.keeper.issue(issue({ revision: 0 }));
    await r.at(60);
    expect(r.states()).toEqual([
      `${airingId('storm-3', 0, 0)} started`,
      `${airingId('storm-3', 0, 0)} interrupted (stopped)`,
      `${airingId('storm-3', 1, 0)} started`,
      `${airingId('storm-3', 1, 0)} finished`,
    ]);
    expect(r.keeper.active().map((a) => a.body.revision)).toEqual([1]);
  });

  it('goes on repeating after a reboot, from what it stored; an expired alert is not aired', async () => {
    const storage = new MemoryStorage();
    const first = rig(storage);
    await first.keeper.issue(issue({ repeat: { everyS: 3600 }, alertExpiresAt: T0 + 5 * H }));
    await first.keeper.issue(issue({ alertId: 'flood-1', alertExpiresAt: T0 + 30 * MIN }));
    await first.keeper.flushed();
    first.keeper.close();
    first.engine.close();
    // Power comes back 45 min later.
    const second = rig(storage);
    await second.clock.advance(45 * MIN);
    await second.keeper.load();
    expect(second.keeper.active().map((a) => a.body.alertId)).toEqual(['storm-3']);
    await second.clock.advance(20 * MIN);
    expect(second.of(airingId('storm-3', 0, 1)).map((x) => x.state)).toEqual(['started', 'finished']);
    expect(second.of(airingId('flood-1', 0, 0))).toEqual([]);
  });

  it('does not air an alert that has already expired', async () => {
    const r = rig();
    await r.keeper.issue(issue({ alertExpiresAt: T0 - 1 }));
    await r.at(60);
    expect(r.reports).toEqual([]);
    expect(r.keeper.active()).toEqual([]);
  });
});

describe('the stored alerts document', () => {
  it('compiles beside the command schema it holds, in either order (one validator per process)', () => {
    // A schema with an $id compiled inside another one clashed with the verifier's own
    // compilation of it ("schema with key or id AlertIssueBody already exists"), and the
    // alert never sounded on receivers that had compiled the other first.
    const body = issue();
    expect(validate(ActiveAlerts, [{ body, airings: 1, nextAt: null }]).ok).toBe(true);
    expect(validate(AlertIssueBody, body).ok).toBe(true);
    expect(validate(ActiveAlerts, [{ body, airings: 2, nextAt: T0 }]).ok).toBe(true);
    expect(validate(ActiveAlerts, [{ body: { ...body, extra: 1 }, airings: 0, nextAt: null }]).ok).toBe(false);
  });
});

describe('repeat window (Vietnam time)', () => {
  const at = (iso: string) => Date.parse(iso);
  it('keeps a time inside the window, moves one outside to the next opening', () => {
    // 10:00 Vietnam = 03:00Z.
    expect(nextInWindow(at('2026-11-24T03:00:00Z'), '07:00', '20:00')).toBe(at('2026-11-24T03:00:00Z'));
    // 21:00 Vietnam (14:00Z): tomorrow 07:00 (00:00Z).
    expect(nextInWindow(at('2026-11-24T14:00:00Z'), '07:00', '20:00')).toBe(at('2026-11-25T00:00:00Z'));
    // 05:00 Vietnam (22:00Z the day before): 07:00 the same Vietnam day.
    expect(nextInWindow(at('2026-11-23T22:00:00Z'), '07:00', '20:00')).toBe(at('2026-11-24T00:00:00Z'));
    // The end is exclusive: 20:00 goes to tomorrow.
    expect(nextInWindow(at('2026-11-24T13:00:00Z'), '07:00', '20:00')).toBe(at('2026-11-25T00:00:00Z'));
  });
  it('handles a window across midnight, and no window', () => {
    expect(nextInWindow(at('2026-11-24T16:00:00Z'), '22:00', '05:00')).toBe(at('2026-11-24T16:00:00Z')); // 23:00
    expect(nextInWindow(at('2026-11-24T05:00:00Z'), '22:00', '05:00')).toBe(at('2026-11-24T15:00:00Z')); // 12:00 → 22:00
    expect(nextInWindow(123, undefined, undefined)).toBe(123);
  });
});
