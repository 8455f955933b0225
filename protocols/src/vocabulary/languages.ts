import { Type } from '@sinclair/typebox';

/**
 * Languages as ISO 639-3 codes: Vietnamese, English, and the ethnic-minority languages
 * VOV broadcasts in plus Tày, Nùng and Mường. Where a people's name covers several ISO
 * languages we pick the variety most spoken in Vietnam (noted per entry).
 */
export const LANGUAGES = {
  vie: { vi: 'Tiếng Việt', en: 'Vietnamese' },
  eng: { vi: 'Tiếng Anh', en: 'English' },
  hmn: { vi: "Tiếng H'Mông", en: 'Hmong' }, // macrolanguage (Hmong Daw, Hmong Njua, ...)
  ium: { vi: 'Tiếng Dao', en: 'Dao (Iu Mien)' },
  blt: { vi: 'Tiếng Thái', en: 'Tai (Tai Dam)' }, // Thái Đen, the largest Thái group
  rad: { vi: 'Tiếng Ê Đê', en: 'Rade (Ê Đê)' },
  jra: { vi: 'Tiếng Jrai', en: 'Jarai' },
  bdq: { vi: 'Tiếng Ba Na', en: 'Bahnar' },
  sed: { vi: 'Tiếng Xơ Đăng', en: 'Sedang' },
  kpm: { vi: "Tiếng K'Ho", en: 'Koho' },
  cjm: { vi: 'Tiếng Chăm', en: 'Eastern Cham' },
  khm: { vi: 'Tiếng Khmer', en: 'Khmer' },
  cmo: { vi: "Tiếng M'Nông", en: 'Mnong (Central)' },
  ktv: { vi: 'Tiếng Cơ Tu', en: 'Katu' },
  tyz: { vi: 'Tiếng Tày', en: 'Tày' },
  nut: { vi: 'Tiếng Nùng', en: 'Nùng' },
  mtq: { vi: 'Tiếng Mường', en: 'Mường' },
} as const satisfies Record<string, { vi: string; en: string }>;

export type LanguageCode = keyof typeof LANGUAGES;
export const LANGUAGE_CODES = Object.keys(LANGUAGES) as LanguageCode[];

export const LanguageCodeSchema = Type.Union(
  LANGUAGE_CODES.map((c) => Type.Literal(c)),
  { title: 'LanguageCode', description: 'ISO 639-3 language code' },
);

export function isLanguageCode(value: unknown): value is LanguageCode {
  return typeof value === 'string' && Object.hasOwn(LANGUAGES, value);
}
