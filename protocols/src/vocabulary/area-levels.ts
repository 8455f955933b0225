import { Type } from '@sinclair/typebox';

/**
 * Administrative levels, top first: province (tỉnh) > district (huyện) > commune (xã)
 * > village (thôn, bản). Since the 2025 reform many provinces have no district level;
 * an area path may skip it, so nothing here assumes all four levels are present.
 */
export const AREA_LEVELS = ['province', 'district', 'commune', 'village'] as const;
export type AreaLevel = (typeof AREA_LEVELS)[number];

export const AREA_LEVEL_NAMES: Record<AreaLevel, { vi: string; en: string }> = {
  province: { vi: 'Tỉnh', en: 'Province' },
  district: { vi: 'Huyện', en: 'District' },
  commune: { vi: 'Xã', en: 'Commune' },
  village: { vi: 'Thôn, bản', en: 'Village' },
};

export const AreaLevelSchema = Type.Union(
  AREA_LEVELS.map((l) => Type.Literal(l)),
  { title: 'AreaLevel', description: 'Administrative level' },
);

export function areaLevelDepth(level: AreaLevel): number {
  return AREA_LEVELS.indexOf(level);
}
