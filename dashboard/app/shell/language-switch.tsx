import { useTranslation } from 'react-i18next';
import { chooseLanguage } from '../i18n/i18n.ts';
import { LANGUAGES, type Language } from '../i18n/strings.ts';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language-switch">
      {t('language')}{' '}
      <select value={i18n.language} onChange={(e) => chooseLanguage(e.target.value as Language)} name="language">
        {LANGUAGES.map((language) => (
          <option key={language} value={language}>
            {language === 'vi' ? t('languageVi') : t('languageEn')}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The current UI language, for formatting dates. */
export function useLanguage(): Language {
  const { i18n } = useTranslation();
  return (LANGUAGES.includes(i18n.language as Language) ? i18n.language : 'vi') as Language;
}
