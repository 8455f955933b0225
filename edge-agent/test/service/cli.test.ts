import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKey, trustedKeyFor } from '@loa/protocols';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateBroker } from '../support/private-broker.js';

// The agent runs against a broker of the test's own, so its retained state stays out of
// the shared broker that other tests' ingests read.
let broker: PrivateBroker;
beforeAll(async () => {
  broker = await PrivateBroker.start();
});
afterAll(() => broker.down());

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
  const config = join(dir, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      receiverId: `rx-cli-${Math.random().toString(36).slice(2, 8)}`,
      areas: [{ level: 'village', areaCode: '02680-01' }],
      trustedKeys: [trustedKeyFor(generateSigningKey())],
      dataDir: 'data',
      audio: { sink: 'wav', wavDir: '.' },
      amplifier: { warmUpMs: 10, holdMs: 10, lineCheckCommand: 'echo \'{"ok":false,"fault":"speaker_line_open"}\'' },
      health: { firmwareFile: '/nonexistent' },
    }),
  );
  return { dir, config };
}

function run(args: string[], until?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions', 'source', '--import', 'tsx', cli, ...args], {
      env: { ...process.env, MQTT_URL: broker.url },
    });
    let out = '';
    let err = '';
    let signalled = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!signalled && until?.test(out)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('edge-agent command line', () => {
  it('runs as a service: starts, logs JSON lines, stops cleanly on SIGTERM', async () => {
    const { config } = setup();
    const result = await run(['run', '--config', config], /"msg":"agent started"/);
    expect(result.code, result.err).toBe(0);
    const lines = result.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['agent started', 'stopping']));
  }, 30_000);

  it('plays a test tone through the configured sink, and reports a failed line check', async () => {
    const { dir, config } = setup();
    const tone = await run(['test-tone', '--config', config, '--ms', '200']);
    expect(tone.code, tone.err).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wav'))).toHaveLength(1);
    const check = await run(['check-line', '--config', config]);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.out)).toEqual({ ok: false, fault: 'speaker_line_open' });
  }, 30_000);

  it('shows status from the data directory, and explains a bad config', async () => {
    const { config } = setup();
    const status = await run(['status', '--config', config]);
    expect(status.code, status.err).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ scheduleVersion: null, next: [], outbox: 0 });
    const bad = await run(['status', '--config', '/nonexistent.json']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/cannot read config/);
    expect((await run(['dance'])).code).toBe(2);
  }, 30_000);
});
