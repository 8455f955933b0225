import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage } from '../api/problem.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { type Alert, announceAlertsChanged, cancelAlert } from './alert-api.ts';
import { RiskBadge, StatusMark, textOf } from './alert-marks.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { useAlertList } from './use-alert-list.ts';
import './alerts.css';

/**
 * The alerts on air in the user's scope. The bar is on every page of emergency staff, so
 * it also relays the controller's `alert.changed` to every alert view of the page.
 */
function useActiveAlerts() {
  const list = useAlertList('issued', { refreshMs: 15_000, settleMs: 1000, ignoreDeliveriesOfListed: true });
  useFleetEvents((event) => {
    // A colleague drafted, approved, issued or cancelled an alert: every alert view on this
    // page (this bar, the console, an alert's page) re-reads at once.
    if (event.type === 'alert.changed') announceAlertsChanged();
  });
  return { ...list, alerts: list.alerts ?? [] };
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
