import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { loadScenario } from '../../src/scenarios/load-scenario.js';
import { defaultRunHooks } from '../../src/scenarios/run-hooks.js';
import { formatResult } from '../../src/scenarios/scenario-report.js';
import { runScenario } from '../../src/scenarios/scenario-runner.js';

/**
 * End to end: one scenario file of simulator/scenarios on a private system (fresh
 * database, its own broker, the real controller process) with real agents; every
 * expectation must hold. One file per scenario, so they run side by side.
 */
export function scenarioHolds(name: string): void {
  it(`${name}.yaml: every expectation holds`, async () => {
    const scenario = await loadScenario(fileURLToPath(new URL(`../../scenarios/${name}.yaml`, import.meta.url)));
    const result = await runScenario(scenario, defaultRunHooks());
    expect(result.passed, formatResult(result)).toBe(true);
    expect(result.expectations.map((e) => e.status)).toEqual(scenario.expect.map(() => 'pass'));
  }, 240_000);
}
