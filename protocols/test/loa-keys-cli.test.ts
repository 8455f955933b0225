import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { keyIdOf, loadSigningKey } from '@loa/protocols';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = (...args: string[]) =>
  run(join(pkg, '..', 'node_modules', '.bin', 'tsx'), [join(pkg, 'src/cli/loa-keys.ts'), ...args]);

describe('loa-keys', () => {
  it('generates a private key file only its owner can read, and prints the trusted-key entry', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'loa-keys-')), 'signing.jwk');
    const { stdout } = await cli('generate', file);
    const entry = JSON.parse(stdout) as { keyId: string; x: string };
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = loadSigningKey(JSON.parse(readFileSync(file, 'utf8')));
    expect(key.keyId).toBe(entry.keyId);
    expect(keyIdOf(entry.x)).toBe(entry.keyId);
    const again = await cli('public', file);
    expect(JSON.parse(again.stdout)).toEqual(entry);
    await expect(cli('generate', file)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('refusing to overwrite'),
    });
  }, 30_000);

  it('explains a broken key file and bad usage', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'loa-keys-')), 'broken.jwk');
    writeFileSync(file, '{"kty":"OKP","crv":"Ed25519","x":"short"}');
    await expect(cli('public', file)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('invalid signing key'),
    });
    await expect(cli('rotate')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  }, 30_000);
});
