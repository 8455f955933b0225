/**
 * One feature's strings in both languages. English must have every Vietnamese key (and
 * no other): a missing translation is a type error, not a blank on a commune's screen.
 */
export function strings<T extends Record<string, string>>(vi: T, en: { [K in keyof T]: string }) {
  return { vi, en };
}
export type Language = 'vi' | 'en';
export const LANGUAGES: readonly Language[] = ['vi', 'en'];
