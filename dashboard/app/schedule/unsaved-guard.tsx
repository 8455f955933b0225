import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useBlocker } from 'react-router';

/**
 * Keeps an official from losing an unsaved form by leaving the page: inside the app a
 * bar asks first; closing or reloading the tab gets the browser's own question.
 */
export function UnsavedGuard({ dirty }: { dirty: boolean }) {
  const { t } = useTranslation('schedule');
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
  if (blocker.state !== 'blocked') return null;
  return (
    <div className="unsaved" role="alertdialog" aria-labelledby="unsaved-text">
      <p id="unsaved-text">{t('unsavedLeave')}</p>
      <button type="button" onClick={() => blocker.reset()}>
        {t('unsavedStay')}
      </button>{' '}
      <button type="button" className="danger" onClick={() => blocker.proceed()}>
        {t('unsavedGo')}
      </button>
    </div>
  );
}
