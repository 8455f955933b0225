import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../api/problem.ts';
import { fetchAlertCap } from './alert-api.ts';

/** The alert as other systems receive it: its CAP 1.2 document (GET /alerts/{id}/cap), shown on request. */
export function CapView({ alertId }: { alertId: string }) {
  const { t } = useTranslation('alerts');
  const [xml, setXml] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const show = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setXml(await fetchAlertCap(alertId));
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="cap-view" aria-labelledby={`cap-${alertId}`}>
      <h2 id={`cap-${alertId}`}>{t('capTitle')}</h2>
      <p className="muted">{t('capHint')}</p>
      <div className="form-actions">
        <button type="button" onClick={() => (xml ? setXml(undefined) : void show())} disabled={busy}>
          {xml ? t('capHide') : busy ? t('loadingShort') : t('capShow')}
        </button>
        <a href={`/alerts/${encodeURIComponent(alertId)}/cap`} download={`${alertId}.cap.xml`}>
          {t('capDownload')}
        </a>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {xml && <pre className="cap-xml">{xml}</pre>}
    </section>
  );
}
