import { ConfigError } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';

describe('controller configuration', () => {
  it('defaults every connection to loopback', () => {
    const config = loadControllerConfig({});
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/loa');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.MQTT_URL).toBe('mqtt://127.0.0.1:1883');
    expect(config.HTTP_PORT).toBe(8080);
  });

  it('takes values from the environment', () => {
    const config = loadControllerConfig({ MQTT_URL: 'mqtts://broker.example:8883', HTTP_PORT: '9000' });
    expect(config.MQTT_URL).toBe('mqtts://broker.example:8883');
    expect(config.HTTP_PORT).toBe(9000);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadControllerConfig({ DATABASE_URL: 'mysql://x', HTTP_PORT: 'eighty', REDIS_URL: 'redis://ok:1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('DATABASE_URL="mysql://x"');
    expect(message).toContain('HTTP_PORT="eighty"');
    expect(message).not.toContain('REDIS_URL');
  });
});
