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
