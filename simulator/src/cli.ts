#!/usr/bin/env node
// `loa-sim fleet`: the demo's receivers as a living virtual fleet on the real agent code.
// `loa-sim scenario <file>...`: runs scenario files on a private system, exit 1 on a failed expectation.
import { writeFileSync } from 'node:fs';
import { ConfigError } from '@loa/protocols';
import { loadSimulatorConfig } from './config.js';
import { Fleet } from './fleet/fleet.js';
import { ControllerRegistry } from './registry/controller-registry.js';
import { loadScenario, ScenarioError } from './scenarios/load-scenario.js';
import { defaultRunHooks } from './scenarios/run-hooks.js';
import { formatResult, progressReporter } from './scenarios/scenario-report.js';
import { runScenario, type ScenarioResult } from './scenarios/scenario-runner.js';

const USAGE = `usage:
  loa-sim fleet                               the demo fleet against a running controller (settings from the environment)
  loa-sim scenario <file>... [--json <out>]   run scenario files, each on a private system; exit 1 if an expectation fails`;

async function fleet(): Promise<number> {
  const config = loadSimulatorConfig();
  const registry = new ControllerRegistry(config.CONTROLLER_URL);
  await registry.signIn(config.SIM_USERNAME, config.SIM_PASSWORD).catch((error: Error) => {
    throw new Error(
      `${error.message}; check SIM_USERNAME and SIM_PASSWORD (the demo password is DEMO_PASSWORD, default loa-demo)`,
    );
  });
  const trustedKeys = await registry.trustedKeys();
  const specs = (await registry.receivers(config.FLEET_SIZE)).map((spec) => ({
    ...spec,
    offsetMs: Math.round((Math.random() * 2 - 1) * config.CLOCK_OFFSET_MS),
  }));
  const fleet = new Fleet({
    mqttUrl: config.MQTT_URL,
    controllerUrl: config.CONTROLLER_URL,
    trustedKeys,
    record: (r) => {
      // A partial record marks the first sound; the item is told of once, when it ends.
      if (r.endedAt === undefined) return;
      console.log(
        `sim: ${r.receiverId} played ${r.itemId} (${r.priority}, ${r.languages.join('+') || 'no sound'}): ${r.result}`,
      );
    },
  });
  console.log(`sim: starting ${specs.length} virtual receivers against ${config.MQTT_URL}`);
  await fleet.start(specs, {
    onProgress: (n, total) => {
      if (n % 25 === 0 || n === total) console.log(`sim: ${n}/${total} receivers started`);
    },
  });
  const summary = setInterval(
    () => console.log(`sim: ${fleet.online()}/${specs.length} online, ${fleet.plays.length} items played`),
    30_000,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(summary);
  console.log('sim: stopping the fleet (each receiver says goodbye)');
  await fleet.stop();
  return 0;
}

async function scenarios(args: string[]): Promise<number> {
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && !jsonFile) throw new ScenarioError('--json needs a file name');
  const files = args.filter((_a, i) => jsonAt < 0 || (i !== jsonAt && i !== jsonAt + 1));
  if (files.length === 0) throw new ScenarioError(USAGE);
  const loaded = [];
  for (const file of files) loaded.push(await loadScenario(file));
  const results: ScenarioResult[] = [];
  for (const scenario of loaded) {
    console.error(`sim: running "${scenario.name}"`);
    const { progress, done } = progressReporter();
    const result = await runScenario(scenario, defaultRunHooks({ progress }));
    done();
    console.log(formatResult(result));
    results.push(result);
  }
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  const failed = results.filter((r) => !r.passed).length;
  console.log(`${results.length - failed} scenarios passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'fleet') return fleet();
  if (command === 'scenario') return scenarios(args);
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const expected = error instanceof ConfigError || error instanceof ScenarioError;
    console.error(expected ? (error as Error).message : `sim: ${(error as Error).message ?? error}`);
    process.exit(expected ? 2 : 1);
  },
);
