// `npm run broker:config --workspace controller -- <dir>`: writes Mosquitto's password
// and ACL files for the controller and every receiver with credentials. Point
// mosquitto.conf at them (password_file, acl_file, allow_anonymous false) and send the
// broker SIGHUP to reload after receivers are added.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadControllerConfigOrExit } from '../config.js';
import { createDatabase } from '../database/client.js';
import { brokerAccounts, renderAclFile, renderPasswordFile } from './broker-config.js';
import { hashMosquittoPassword } from './mosquitto-password.js';

const [dir] = process.argv.slice(2);
const controllerPassword = process.env.MQTT_CONTROLLER_PASSWORD;
if (!dir || !controllerPassword) {
  console.error('usage: MQTT_CONTROLLER_PASSWORD=... broker-config <output dir>');
  process.exit(2);
}
const config = loadControllerConfigOrExit();
const db = createDatabase(config.DATABASE_URL);
try {
  const accounts = await brokerAccounts(db, {
    username: process.env.MQTT_CONTROLLER_USER || 'controller',
    passwordHash: hashMosquittoPassword(controllerPassword),
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'passwords'), renderPasswordFile(accounts), { mode: 0o640 });
  writeFileSync(join(dir, 'acl'), renderAclFile(accounts), { mode: 0o644 });
  console.log(`broker-config: ${accounts.length} accounts written to ${resolve(dir)}/passwords and acl`);
} finally {
  await db.$disconnect();
}
