import { useTranslation } from 'react-i18next';
import type { Loaded } from '../api/use-load.ts';

/** Loading and error lines every page uses the same way; an error offers a retry. */
export function LoadStatus({ loaded }: { loaded: Pick<Loaded<unknown>, 'error' | 'loading' | 'reload' | 'data'> }) {
  const { t } = useTranslation();
  if (loaded.error)
    return (
      <p className="error" role="alert">
        {t('error', { detail: loaded.error })}{' '}
        <button type="button" onClick={loaded.reload}>
          {t('retry')}
        </button>
      </p>
    );
  if (loaded.loading && loaded.data === undefined) return <p aria-live="polite">{t('loading')}</p>;
  return null;
}
