import { Type } from '@sinclair/typebox';

/**
 * Natural-disaster risk levels of Decision 18/2021/QĐ-TTg, each with the colour the
 * decision assigns. The hex values are our rendering of those colour names.
 */
export const RISK_LEVELS = [1, 2, 3, 4, 5] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export interface RiskLevelInfo {
  level: RiskLevel;
  colour: { vi: string; en: string };
  hex: string;
  /** Text colour that keeps WCAG AA contrast on `hex`. */
  textHex: string;
}

export const RISK_LEVEL_INFO: Record<RiskLevel, RiskLevelInfo> = {
  1: { level: 1, colour: { vi: 'Xanh dương nhạt', en: 'Light blue' }, hex: '#8FD3F4', textHex: '#000000' },
  2: { level: 2, colour: { vi: 'Vàng nhạt', en: 'Light yellow' }, hex: '#FFF59D', textHex: '#000000' },
  3: { level: 3, colour: { vi: 'Da cam', en: 'Orange' }, hex: '#FF9800', textHex: '#000000' },
  4: { level: 4, colour: { vi: 'Đỏ', en: 'Red' }, hex: '#D50000', textHex: '#FFFFFF' },
  5: { level: 5, colour: { vi: 'Tím', en: 'Purple' }, hex: '#6A1B9A', textHex: '#FFFFFF' },
};

export const RiskLevelSchema = Type.Union(
  RISK_LEVELS.map((l) => Type.Literal(l)),
  { title: 'RiskLevel', description: 'Disaster risk level 1-5 (Decision 18/2021/QĐ-TTg)' },
);

export function isRiskLevel(value: unknown): value is RiskLevel {
  return typeof value === 'number' && (RISK_LEVELS as readonly number[]).includes(value);
}
