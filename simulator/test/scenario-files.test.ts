import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkScenario, durationMs, loadScenario, ScenarioError } from '../src/scenarios/load-scenario.js';

const dir = fileURLToPath(new URL('../scenarios/', import.meta.url));
const minimal = { name: 'x', province: 'demo', expect: [{ noDuplicates: {} }] };

describe('scenario files', () => {
  it('loads every shipped scenario', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) expect((await loadScenario(`${dir}${file}`)).expect.length).toBeGreaterThan(0);
  });

  it('reads durations', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('20s')).toBe(20_000);
    expect(durationMs('1.5m')).toBe(90_000);
    expect(durationMs(250)).toBe(250);
    expect(() => durationMs('20 seconds')).toThrow(/not a duration/);
  });

  it('names the step and the problem for a bad timeline entry', () => {
    const bad = (timeline: unknown[]) => () => checkScenario({ ...minimal, timeline }, 'bad.yaml');
    expect(
      bad([{ at: '1s', as: 'u', playNow: { id: 'a', content: 'c', areas: ['X'], priorty: 'emergency' } }]),
    ).toThrow(/bad\.yaml: not a valid scenario:\n {2}\/timeline\/0\/playNow.*unknown property 'priorty'/);
    expect(bad([{ at: '1s', explode: {} }])).toThrow(/\/timeline\/0: says none of schedule, playNow/);
    expect(bad([{ at: 'soon', brokerRestart: {} }])).toThrow(ScenarioError);
  });

  it('refuses a scenario without expectations or with an unknown province', () => {
    expect(() => checkScenario({ ...minimal, expect: [] })).toThrow(/expect/);
    expect(() => checkScenario({ ...minimal, province: 'atlantis' })).toThrow(/province/);
    expect(() => checkScenario({ ...minimal, expect: [{ startd: { item: 'a', within: '1s' } }] })).toThrow(
      /\/expect\/0: says none of started/,
    );
  });
});

describe('scenario names', () => {
  it('refuses, before anything starts, a name that nothing defines or that is defined twice', () => {
    const scenario = {
      name: 'x',
      province: 'demo',
      audio: [{ id: 'a', tone: { hz: 440, seconds: 1 } }],
      content: [{ id: 'c', title: 't', owner: '02680', as: 'u', variants: { vie: 'a', hmn: 'b' } }],
      timeline: [
        { at: '1s', as: 'u', playNow: { id: 'now', content: 'd', areas: ['02680'] } },
        { at: '2s', as: 'u', playNow: { id: 'now', content: 'c', areas: ['02680'] } },
      ],
      expect: [
        { started: { item: 'later', within: '1s' } },
        { interrupted: { item: 'now', by: 'never' } },
        { refused: { forged: 'rogue', within: '1s' } },
      ],
    };
    let message = '';
    try {
      checkScenario(scenario, 'names.yaml');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('names.yaml: not a valid scenario');
    expect(message).toContain('/content/0: no audio "b" (defined: a)');
    expect(message).toContain('/timeline/0: no content "d" (defined: c)');
    expect(message).toContain('item "now" is defined twice');
    expect(message).toContain('/expect/0: no item "later" (defined: now)');
    expect(message).toContain('/expect/1: no item "never"');
    expect(message).toContain('/expect/2: no forgery "rogue" (defined: none)');
  });
});

describe('alert steps', () => {
  const base = {
    name: 'x',
    province: { receivers: 10 },
    audio: [{ id: 'a', tone: { hz: 440, seconds: 1 } }],
  };
  const problems = (scenario: Record<string, unknown>) => {
    try {
      checkScenario({ ...base, ...scenario }, 'alerts.yaml');
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('takes drawn polygons and circles instead of areas, and an Update of an alert', () => {
    expect(
      problems({
        timeline: [
          {
            at: '0s',
            as: 'u',
            alert: {
              id: 'drawn',
              polygons: [
                [
                  [22.3, 103.9],
                  [22.3, 103.91],
                  [22.31, 103.91],
                ],
              ],
              circles: [{ lat: 22.34, lon: 103.9, radiusKm: 0.5 }],
              audio: { vie: 'a' },
              riskLevel: 3,
            },
          },
          { at: '5s', as: 'u', updateAlert: { id: 'drawn-2', alert: 'drawn', riskLevel: 4 } },
          { at: '9s', as: 'u', cancelAlert: { alert: 'drawn-2' } },
        ],
        expect: [
          { airedExactly: { item: 'drawn', within: '10s' } },
          { replaced: { item: 'drawn', by: 'drawn-2', within: '2s' } },
          { cancelled: { item: 'drawn-2', within: '2s' } },
        ],
      }),
    ).toBe('');
  });

  it('refuses an alert with no target, one nothing can sound, and names that are not alerts', () => {
    const message = problems({
      content: [{ id: 'c', title: 't', owner: 'LP', as: 'u', variants: { vie: 'a' } }],
      timeline: [
        { at: '0s', as: 'u', alert: { id: 'nowhere', audio: { vie: 'a' }, riskLevel: 3 } },
        { at: '1s', as: 'u', alert: { id: 'silent', areas: ['LP'], riskLevel: 3 } },
        { at: '2s', as: 'u', playNow: { id: 'song', content: 'c', areas: ['LP'] } },
        { at: '3s', as: 'u', updateAlert: { id: 'u', alert: 'song', riskLevel: 4 } },
        { at: '4s', as: 'u', cancelAlert: { alert: 'song' } },
      ],
      expect: [
        { saysNotReal: { item: 'nowhere' } },
        { airedExactly: { item: 'song', within: '1s' } },
        { noAlertSent: { status: 'Actual' } },
      ],
    });
    expect(message).toContain('/timeline/0: alert "nowhere" names no areas, polygons or circles');
    expect(message).toContain(
      '/timeline/1: alert "silent" has no recorded audio, and the controller has no speech engine',
    );
    expect(message).toContain('/timeline/3: no alert "song" (defined: nowhere, silent, u)');
    expect(message).toContain('/timeline/4: no alert "song"');
    expect(message).toContain("/expect/0: saysNotReal needs the controller's speech engine (speech: espeak-ng)");
    expect(message).toContain('/expect/0: alert "nowhere" has recorded Vietnamese audio');
    expect(message).toContain('/expect/1: no alert "song"');
  });

  it('refuses a language key that is not one (a YAML comma splitting a headline, say)', () => {
    expect(
      problems({
        speech: 'espeak-ng',
        timeline: [
          { at: '0s', as: 'u', alert: { id: 'h', areas: ['LP'], headline: { vie: 'a', 'b c': null }, riskLevel: 3 } },
        ],
        expect: [{ saysNotReal: { item: 'h' } }],
      }),
    ).toMatch(/\/timeline\/0\/alert\/headline: has unknown property 'b c'/);
  });
});
