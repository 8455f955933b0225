#!/usr/bin/env node
// `loa-sim fleet`: the demo's receivers as a living virtual fleet on the real agent code.
import { ConfigError } from '@loa/protocols';
import { loadSimulatorConfig } from './config.js';
import { Fleet } from './fleet/fleet.js';
import { ControllerRegistry } from './registry/controller-registry.js';

async function main(): Promise<number> {
  if (process.argv[2] !== 'fleet') {
    console.error('usage: loa-sim fleet   (settings from the environment; see simulator/README.md)');
    return 2;
  }
  const config = loadSimulatorConfig();
  const registry = new ControllerRegistry(config.CONTROLLER_URL);
  await registry.signIn(config.SIM_USERNAME, config.SIM_PASSWORD);
  const trustedKeys = await registry.trustedKeys();
  const specs = (await registry.receivers(config.FLEET_SIZE)).map((spec) => ({
    ...spec,
    offsetMs: Math.round((Math.random() * 2 - 1) * config.CLOCK_OFFSET_MS),
  }));
  const fleet = new Fleet({
    mqttUrl: config.MQTT_URL,
    controllerUrl: config.CONTROLLER_URL,
    trustedKeys,
    record: (r) =>
      console.log(
        `sim: ${r.receiverId} played ${r.itemId} (${r.priority}, ${r.languages.join('+') || 'no sound'}): ${r.result}`,
      ),
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `sim: ${(error as Error).message ?? error}`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
