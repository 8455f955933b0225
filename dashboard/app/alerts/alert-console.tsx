import type { ParseKeys } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { type Alert, type AlertState, waitsForApproval } from './alert-api.ts';
import { HazardName, RiskBadge, StateBadge, StatusMark, textOf } from './alert-marks.tsx';
import './alerts.css';
import { useAlertList } from './use-alert-list.ts';

type Filter = 'all' | 'waiting' | AlertState;
const FILTERS: ReadonlyArray<{ value: Filter; label: ParseKeys<'alerts'> }> = [
  { value: 'all', label: 'filterAll' },
  { value: 'issued', label: 'state_issued' },
  { value: 'waiting', label: 'stateWaiting' },
  { value: 'draft', label: 'state_draft' },
  { value: 'updated', label: 'state_updated' },
  { value: 'cancelled', label: 'state_cancelled' },
  { value: 'expired', label: 'state_expired' },
];

/** The console (alerts): alerts on air, those waiting for a second person, and the recent ones; filterable by state. */
export function AlertConsole() {
  const { t } = useTranslation('alerts');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const filter = (FILTERS.find((f) => f.value === params.get('state'))?.value ?? 'all') as Filter;
  const {
    alerts,
    error,
    reload: load,
  } = useAlertList(filter === 'all' ? undefined : filter === 'waiting' ? 'draft' : filter, {
    refreshMs: 10_000,
    settleMs: 2000,
    ...(filter === 'waiting' ? { select: (items: Alert[]) => items.filter(waitsForApproval) } : {}),
  });

  if (!hasRole(me, 'emergency')) return <Forbidden />;
  const onAir = alerts?.filter((a) => a.state === 'issued') ?? [];
  const waiting = alerts?.filter(waitsForApproval) ?? [];
  const rest = alerts?.filter((a) => a.state !== 'issued' && !waitsForApproval(a)) ?? [];

  return (
    <section className="alert-console">
      <h1>{t('consoleTitle')}</h1>
      <p className="form-actions">
        <Link className="button-link danger" to="/alerts/new">
          {t('composeLink')}
        </Link>
        <Link className="button-link" to="/cap">
          {t('capInboxLink')}
        </Link>
      </p>
      <label className="inline-select">
        {t('filterLabel')}{' '}
        <select
          value={filter}
          onChange={(e) => setParams(e.target.value === 'all' ? {} : { state: e.target.value }, { replace: true })}
        >
          {FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {t(f.label)}
            </option>
          ))}
        </select>
      </label>
      {error && <LoadStatus loaded={{ error, loading: false, reload: load, data: alerts }} />}
      {!alerts && !error && <LoadStatus loaded={{ error: undefined, loading: true, reload: load, data: undefined }} />}
      {alerts && filter === 'all' && (
        <>
          <AlertList title={t('sectionOnAir')} alerts={onAir} empty={t('noneOnAir')} />
          <AlertList title={t('sectionWaiting')} alerts={waiting} empty={t('noneWaiting')} />
          <AlertList title={t('sectionRecent')} alerts={rest.slice(0, 50)} empty={t('noneRecent')} />
        </>
      )}
      {alerts && filter !== 'all' && (
        <AlertList
          title={t(FILTERS.find((f) => f.value === filter)?.label ?? 'filterAll')}
          alerts={alerts}
          empty={t('noneFiltered')}
        />
      )}
    </section>
  );
}

function AlertList({ title, alerts, empty }: { title: string; alerts: Alert[]; empty: string }) {
  const { t } = useTranslation('alerts');
  const language = useLanguage();
  return (
    <section className="alert-section" aria-label={title}>
      <h2>
        {title} <span className="muted">({alerts.length})</span>
      </h2>
      {alerts.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <ul className="alert-list">
          {alerts.map((a) => (
            <li key={a.id} className={`alert-card status-${a.status.toLowerCase()}`}>
              <div className="alert-card-tags">
                <StatusMark status={a.status} /> <RiskBadge level={a.riskLevel} compact /> <StateBadge alert={a} />
              </div>
              <Link to={`/alerts/${a.id}`} className="alert-card-headline">
                {textOf(a.headline, language)}
              </Link>
              <p className="muted">
                <HazardName hazard={a.hazard} /> ·{' '}
                {a.issuedAt
                  ? t('issuedAtBy', { at: formatDateTime(a.issuedAt, language), name: a.issuedBy?.displayName ?? '—' })
                  : t('createdAtBy', {
                      at: formatDateTime(a.createdAt, language),
                      name: a.createdBy?.displayName ?? (a.origin === 'cap' ? 'CAP' : '—'),
                    })}
                {a.origin === 'cap' && <> · {t('fromCap')}</>}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
