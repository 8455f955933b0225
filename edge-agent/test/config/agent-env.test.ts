import { describe, expect, it } from 'vitest';
import { loadAgentEnv } from '../../src/config/agent-env.js';

describe('edge agent environment', () => {
  it('defaults to loopback and refuses a broker URL of the wrong scheme', () => {
    expect(loadAgentEnv({})).toEqual({ MQTT_URL: 'mqtt://127.0.0.1:1883', CONTROLLER_URL: 'http://127.0.0.1:8080' });
    expect(() => loadAgentEnv({ MQTT_URL: 'http://127.0.0.1:1883' })).toThrow(/MQTT_URL="http:\/\/127.0.0.1:1883"/);
  });
});
