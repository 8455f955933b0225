#!/usr/bin/env node
// Manages the controller's Ed25519 command-signing keys.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateSigningKey, loadSigningKey, type PrivateKeyJwk, trustedKeyFor } from '../signing/keys.js';

const USAGE = `usage:
  loa-keys generate <private-key-file>   create a new signing key (file mode 0600) and print its trusted-key entry
  loa-keys public <private-key-file>     print the trusted-key entry receivers need for an existing key

Receivers list trusted keys in their config; to rotate, add the new key's entry to every
receiver first, then switch the controller to the new key, then retire the old entry.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const [command, file] = process.argv.slice(2);
if (!command || !file || !['generate', 'public'].includes(command)) fail(USAGE);

if (command === 'generate') {
  if (existsSync(file)) fail(`${file} exists; refusing to overwrite a signing key`);
  const key = generateSigningKey();
  writeFileSync(file, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  console.log(JSON.stringify(trustedKeyFor(key), null, 2));
} else {
  let jwk: unknown;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    loadSigningKey(jwk);
  } catch (error) {
    fail(`${file}: ${(error as Error).message}`);
  }
  console.log(JSON.stringify(trustedKeyFor(jwk as PrivateKeyJwk), null, 2));
}
