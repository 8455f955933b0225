import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, trustedKeyFor } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { AgentConfigError, loadAgentConfig, mqttPasswordOf, trustedKeysOf } from '../../src/config/agent-config.js';

const key = trustedKeyFor(generateSigningKey());
const minimal = {
  receiverId: 'rx-02680-01-1',
  areas: [
    { level: 'province', areaCode: '10' },
    { level: 'village', areaCode: '02680-01' },
  ],
  trustedKeys: [key],
};

function write(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
  const file = join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('agent config file', () => {
  it('fills every default and resolves paths relative to the file', () => {
    const file = write({ ...minimal, dataDir: 'data', mqtt: { passwordFile: 'secret' } });
    writeFileSync(join(file, '..', 'secret'), 'pa55\n');
    const config = loadAgentConfig(file, {});
    expect(config.dataDir).toBe(join(file, '..', 'data'));
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.audio).toEqual({ sink: 'alsa', device: 'default', volume: 80 });
    expect(config.amplifier.warmUpMs).toBe(1500);
    expect(config.health.heartbeatMs).toBe(10_000);
    expect(mqttPasswordOf(config)).toBe('pa55');
  });

  it('lets the environment override the broker and controller', () => {
    const config = loadAgentConfig(write(minimal), { MQTT_URL: 'mqtt://127.0.0.1:1999' });
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1999');
  });

  it('names what is wrong: unknown keys, bad ids, no trusted key', () => {
    expect(() => loadAgentConfig(write({ ...minimal, recieverId: 'x' }), {})).toThrow(/unknown property 'recieverId'/);
    expect(() => loadAgentConfig(write({ ...minimal, receiverId: 'RX 1' }), {})).toThrow(AgentConfigError);
    expect(() => loadAgentConfig(write({ ...minimal, trustedKeys: [] }), {})).toThrow(/no trusted keys/);
    expect(() => loadAgentConfig('/nonexistent/agent.json', {})).toThrow(/cannot read config/);
  });

  it('adds keys from a trusted-keys file (for rotation)', () => {
    const other = trustedKeyFor(generateSigningKey());
    const file = write({ ...minimal, trustedKeysFile: 'keys.json' });
    writeFileSync(join(file, '..', 'keys.json'), JSON.stringify([other]));
    expect(trustedKeysOf(loadAgentConfig(file, {})).map((k) => k.keyId)).toEqual([key.keyId, other.keyId]);
  });
});
