import { describe, expect, it } from 'vitest';
import { loadDashboardConfig } from '../src/config.js';

describe('dashboard configuration', () => {
  it('works without a tile server and checks a tile template', () => {
    expect(loadDashboardConfig({}).MAP_TILE_URL).toBe('');
    const url = 'https://tiles.example/{z}/{x}/{y}.png';
    expect(loadDashboardConfig({ MAP_TILE_URL: url }).MAP_TILE_URL).toBe(url);
    expect(() => loadDashboardConfig({ MAP_TILE_URL: 'tiles.example' })).toThrow(/MAP_TILE_URL/);
  });
});
