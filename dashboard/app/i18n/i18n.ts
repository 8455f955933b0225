import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { alertStrings } from '../alerts/strings.ts';
import { fleetStrings } from '../fleet/strings.ts';
import { liveStrings } from '../live/strings.ts';
import { mapStrings } from '../map/strings.ts';
import { scheduleStrings } from '../schedule/strings.ts';
import { shellStrings } from '../shell/strings.ts';
import { LANGUAGES, type Language } from './strings.ts';

/** One namespace per feature folder; each keeps its own strings beside its pages. */
export const namespaces = {
  shell: shellStrings,
  map: mapStrings,
  schedule: scheduleStrings,
  alerts: alertStrings,
  fleet: fleetStrings,
  live: liveStrings,
};

const STORAGE_KEY = 'loa.language';
export function storedLanguage(): Language {
  const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
  return LANGUAGES.includes(stored as Language) ? (stored as Language) : 'vi';
}
export function chooseLanguage(language: Language): void {
  localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = language;
  void i18next.changeLanguage(language);
}

const resources = Object.fromEntries(
  LANGUAGES.map((language) => [
    language,
    Object.fromEntries(Object.entries(namespaces).map(([ns, s]) => [ns, s[language]])),
  ]),
);

void i18next.use(initReactI18next).init({
  resources,
  lng: storedLanguage(),
  fallbackLng: 'vi',
  defaultNS: 'shell',
  ns: Object.keys(namespaces),
  interpolation: { escapeValue: false },
  returnNull: false,
});
document.documentElement.lang = storedLanguage();

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'shell';
    resources: { [K in keyof typeof namespaces]: (typeof namespaces)[K]['vi'] };
  }
}
