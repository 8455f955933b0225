/**
 * Writes app/api/schema.d.ts, the TypeScript types of the controller's HTTP API, from
 * the OpenAPI document the controller serves at /docs/json (made from the same schemas
 * that validate requests). With no URL it starts a private controller (the simulator's
 * System) to read it. `npm run api-types --workspace dashboard [-- <controller URL>]`.
 * A test compares the committed file with the live document, so the two cannot drift.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { System } from '@loa/simulator';
import { apiTypesFrom } from '../test/e2e/api-types.js';

const target = fileURLToPath(new URL('../app/api/schema.d.ts', import.meta.url));
const url = process.argv[2];
let system: System | undefined;
try {
  let base = url;
  if (!base) {
    console.log('api-types: starting a private controller to read its OpenAPI document');
    system = await System.start({ province: { demo: true } });
    base = system.controller.url;
  }
  writeFileSync(target, await apiTypesFrom(base));
  console.log(`api-types: wrote ${target}`);
} finally {
  await system?.stop();
}
