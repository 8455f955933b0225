import {
  AREA_LEVELS,
  comparePriority,
  HAZARDS,
  isLanguageCode,
  isPriority,
  isRiskLevel,
  LANGUAGES,
  PRIORITIES,
  priorityRank,
  RISK_LEVEL_INFO,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';

describe('vocabulary', () => {
  it('orders priorities normal < priority < live < emergency', () => {
    expect(PRIORITIES).toEqual(['normal', 'priority', 'live', 'emergency']);
    expect(comparePriority('emergency', 'live')).toBeGreaterThan(0);
    expect(comparePriority('live', 'priority')).toBeGreaterThan(0);
    expect(comparePriority('normal', 'priority')).toBeLessThan(0);
    expect(priorityRank('normal')).toBe(0);
    expect(isPriority('urgent')).toBe(false);
  });

  it('gives each risk level its colour from Decision 18/2021', () => {
    expect(Object.values(RISK_LEVEL_INFO).map((r) => r.colour.en)).toEqual([
      'Light blue',
      'Light yellow',
      'Orange',
      'Red',
      'Purple',
    ]);
    expect(isRiskLevel(3)).toBe(true);
    expect(isRiskLevel(6)).toBe(false);
    expect(isRiskLevel('3')).toBe(false);
  });

  it('names every required language with a three-letter ISO 639-3 code', () => {
    for (const required of [
      'Hmong',
      'Dao',
      'Tai',
      'Rade',
      'Jarai',
      'Bahnar',
      'Sedang',
      'Koho',
      'Cham',
      'Khmer',
      'Mnong',
      'Katu',
      'Tày',
      'Nùng',
      'Mường',
    ]) {
      expect(
        Object.values(LANGUAGES).some((l) => l.en.includes(required)),
        required,
      ).toBe(true);
    }
    for (const [code, names] of Object.entries(LANGUAGES)) {
      expect(code).toMatch(/^[a-z]{3}$/);
      expect(names.vi.length).toBeGreaterThan(0);
    }
    expect(isLanguageCode('vie')).toBe(true);
    expect(isLanguageCode('vi')).toBe(false);
    expect(isLanguageCode('toString')).toBe(false);
  });

  it('lists hazards and area levels', () => {
    expect(HAZARDS).toContain('flash_flood');
    expect(HAZARDS).toContain('forest_fire');
    expect(HAZARDS).toHaveLength(10);
    expect(AREA_LEVELS).toEqual(['province', 'district', 'commune', 'village']);
  });
});
