import { describe, expect, it } from 'vitest';
import { loadSimulatorConfig } from '../src/config.js';

describe('simulator configuration', () => {
  it('reads the fleet size as a bounded integer', () => {
    expect(loadSimulatorConfig({ FLEET_SIZE: '1000' }).FLEET_SIZE).toBe(1000);
    expect(loadSimulatorConfig({}).FLEET_SIZE).toBe(150);
    expect(() => loadSimulatorConfig({ FLEET_SIZE: '0' })).toThrow(/FLEET_SIZE="0"/);
    expect(() => loadSimulatorConfig({ FLEET_SIZE: 'many' })).toThrow(/FLEET_SIZE="many"/);
  });
});
