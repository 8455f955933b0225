import { Type } from '@sinclair/typebox';

export const HAZARDS = [
  'storm',
  'tropical_depression',
  'flood',
  'flash_flood',
  'landslide',
  'forest_fire',
  'earthquake',
  'tsunami',
  'epidemic',
  'other',
] as const;
export type Hazard = (typeof HAZARDS)[number];

export const HAZARD_NAMES: Record<Hazard, { vi: string; en: string }> = {
  storm: { vi: 'Bão', en: 'Storm' },
  tropical_depression: { vi: 'Áp thấp nhiệt đới', en: 'Tropical depression' },
  flood: { vi: 'Lũ, ngập lụt', en: 'Flood' },
  flash_flood: { vi: 'Lũ quét', en: 'Flash flood' },
  landslide: { vi: 'Sạt lở đất', en: 'Landslide' },
  forest_fire: { vi: 'Cháy rừng', en: 'Forest fire' },
  earthquake: { vi: 'Động đất', en: 'Earthquake' },
  tsunami: { vi: 'Sóng thần', en: 'Tsunami' },
  epidemic: { vi: 'Dịch bệnh', en: 'Epidemic' },
  other: { vi: 'Khác', en: 'Other' },
};

export const HazardSchema = Type.Union(
  HAZARDS.map((h) => Type.Literal(h)),
  { title: 'Hazard', description: 'Hazard type of an alert' },
);
