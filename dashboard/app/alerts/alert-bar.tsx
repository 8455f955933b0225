import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage } from '../api/problem.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { type Alert, announceAlertsChanged, cancelAlert, fetchAlerts, onAlertsChanged } from './alert-api.ts';
import { RiskBadge, StatusMark, textOf } from './alert-marks.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import './alerts.css';

const REFRESH_MS = 15_000;

/**
 * The alerts on air in the user's scope, refreshed every 15 s, at once when a page of this
 * app issues or cancels one, and when a delivery of an alert not listed yet arrives.
 */
function useActiveAlerts() {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [error, setError] = useState<string>();
  const known = useRef(new Set<string>());
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const load = useCallback(() => {
    fetchAlerts('issued').then(
      (items) => {
        known.current = new Set(items.map((a) => a.id));
        setAlerts(items);
        setError(undefined);
      },
      (failure: unknown) => setError(errorMessage(failure)),
    );
  }, []);
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS);
    const unsubscribe = onAlertsChanged(load);
    return () => {
      clearInterval(timer);
      unsubscribe();
      clearTimeout(pending.current);
    };
  }, [load]);
  useFleetEvents((event) => {
    // A colleague drafted, approved, issued or cancelled an alert: every alert view on this
    // page (this bar, the console, an alert's page) re-reads at once.
    if (event.type === 'alert.changed') return announceAlertsChanged();
    if (event.type !== 'alert.delivery' || known.current.has(event.alertId) || pending.current) return;
    // Many receivers answer at once: one refresh for the burst.
    pending.current = setTimeout(() => {
      pending.current = undefined;
      load();
    }, 1000);
  });
  return { alerts, error, reload: load };
}

/** The always-visible bar of active alerts, each with its one-action Cancel (rendered by the shell for emergency staff). */
export function AlertBar() {
  const { t } = useTranslation('alerts');
  const language = useLanguage();
  const { alerts, error, reload } = useActiveAlerts();
  const [cancelling, setCancelling] = useState<Alert>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();

  const confirm = async () => {
    if (!cancelling) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await cancelAlert(cancelling.id);
      setDone(t('barCancelled', { headline: textOf(cancelling.headline, language) }));
      setCancelling(undefined);
      reload();
    } catch (problem) {
      setFailure(errorMessage(problem));
    } finally {
      setBusy(false);
    }
  };

  // The "cancelled" line stays a while, then the bar shrinks back (or disappears).
  useEffect(() => {
    if (!done) return;
    const timer = setTimeout(() => setDone(undefined), 10_000);
    return () => clearTimeout(timer);
  }, [done]);

  if (alerts.length === 0 && !error && !done && !cancelling) return null;
  return (
    <aside className="alert-bar" aria-label={t('barLabel')}>
      {error && (
        <p className="error" role="alert">
          {t('barError', { detail: error })}
        </p>
      )}
      <p className="alert-bar-status" aria-live="polite">
        {done}
      </p>
      {alerts.length > 0 && (
        <ul>
          {alerts.map((alert) => {
            const headline = textOf(alert.headline, language);
            return (
              <li key={alert.id} className={`alert-bar-item status-${alert.status.toLowerCase()}`}>
                <RiskBadge level={alert.riskLevel} compact />
                {alert.status !== 'Actual' && <StatusMark status={alert.status} />}
                <Link to={`/alerts/${alert.id}`} className="alert-bar-headline" title={headline}>
                  {headline}
                </Link>
                <button
                  type="button"
                  className="danger"
                  aria-label={t('barCancelNamed', { headline })}
                  onClick={() => {
                    setFailure(undefined);
                    setDone(undefined);
                    setCancelling(alert);
                  }}
                >
                  {t('cancelAlert')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {cancelling && (
        <ConfirmDialog
          title={t('cancelConfirmTitle')}
          confirmLabel={t('cancelConfirm')}
          cancelLabel={t('cancelKeep')}
          busyLabel={t('cancelling')}
          danger
          busy={busy}
          error={failure}
          onConfirm={() => void confirm()}
          onClose={() => setCancelling(undefined)}
        >
          <p>
            <strong>{textOf(cancelling.headline, language)}</strong>
          </p>
          <p>{t('cancelConfirmBody')}</p>
        </ConfirmDialog>
      )}
    </aside>
  );
}
