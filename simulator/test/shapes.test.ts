import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alertReach } from '../src/scenarios/expectations.js';
import { loadScenario } from '../src/scenarios/load-scenario.js';
import { insideDrawnShapes } from '../src/scenarios/shapes.js';

describe('drawn alert shapes', () => {
  const square: Array<[number, number]> = [
    [22.3, 103.9],
    [22.3, 103.91],
    [22.31, 103.91],
    [22.31, 103.9],
  ];

  it('takes rings as [lat, lon], open or closed, with the edge inside', () => {
    const open = { polygons: [square], circles: [] };
    const closed = { polygons: [[...square, square[0] as [number, number]]], circles: [] };
    for (const shapes of [open, closed]) {
      expect(insideDrawnShapes({ lat: 22.305, lon: 103.905 }, shapes)).toBe(true);
      expect(insideDrawnShapes({ lat: 22.3, lon: 103.905 }, shapes)).toBe(true);
      expect(insideDrawnShapes({ lat: 22.311, lon: 103.905 }, shapes)).toBe(false);
      // Swapped order would put the point far away: latitude first, as CAP and the API have it.
      expect(insideDrawnShapes({ lat: 103.905, lon: 22.305 }, shapes)).toBe(false);
    }
  });

  it('measures circles in kilometres on the ground', () => {
    const circles = [{ lat: 22.3, lon: 103.9, radiusKm: 1 }];
    // 0.009° of latitude is about 1.0 km.
    expect(insideDrawnShapes({ lat: 22.3089, lon: 103.9 }, { polygons: [], circles })).toBe(true);
    expect(insideDrawnShapes({ lat: 22.3091, lon: 103.9 }, { polygons: [], circles })).toBe(false);
  });

  it('alert-polygon.yaml cuts two villages of the generated province and holds two whole', async () => {
    const scenario = await loadScenario(fileURLToPath(new URL('../scenarios/alert-polygon.yaml', import.meta.url)));
    const step = scenario.timeline?.find((s) => 'alert' in s);
    const alert = step && 'alert' in step ? step.alert : undefined;
    const shapes = { polygons: alert?.polygons ?? [], circles: alert?.circles ?? [] };
    // Receiver positions as controller/src/demo/load-province.ts seeds them (20 a village).
    const perVillage = 20;
    const receivers = Array.from({ length: 100 }, (_, i) => ({
      receiverId: `rx-${i}`,
      areaCodes: [`V${Math.floor(i / perVillage) + 1}`],
      position: {
        lat: 22.3 + Math.floor(i / perVillage) * 0.01 + (i % 10) * 0.001,
        lon: 103.9 + (Math.floor(i / 10) % 10) * 0.001,
      },
    }));
    const inside = alertReach(receivers, alert?.areas ?? [], shapes);
    const perVillageInside = ['V1', 'V2', 'V3', 'V4', 'V5'].map(
      (v) => inside.filter((r) => r.areaCodes.includes(v)).length,
    );
    expect(perVillageInside).toEqual([10, 20, 5, 0, 20]);
  });
});
