import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage, must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import {
  type Alert,
  type AlertPerson,
  announceAlertsChanged,
  cancelAlert,
  type DeliveryRow,
  fetchAlert,
  fetchAlerts,
  fetchAreas,
  fetchDeliveries,
  fetchReceivers,
  onAlertsChanged,
  waitsForApproval,
} from './alert-api.ts';
import type { ComposeOutcome } from './alert-compose.tsx';
import { HazardName, RiskBadge, StateBadge, StatusBanner, textOf } from './alert-marks.tsx';
import { CapView } from './cap-view.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { DeliveryMap } from './delivery-map.tsx';
import { deliveryInfo, movesForward } from './delivery-states.ts';
import { insideShapes } from './geometry.ts';
import { AlertScope } from './scope.ts';
import { UpdateForm } from './update-form.tsx';
import './alerts.css';

/** While waiting for a second person the draft is fetched often; deliveries are fetched again as a safety net under the live events. */
const WAITING_MS = 3000;
const ALERT_MS = 10_000;
const DELIVERIES_MS = 5000;

function useInterval(callback: () => void, ms: number | null) {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/** The alert page (alerts/:id): its state and people, approval and issue, live delivery, Update and Cancel. */
export function AlertPage() {
  const me = useMe();
  const { id = '' } = useParams();
  if (!hasRole(me, 'emergency')) return <Forbidden />;
  return <AlertView key={id} id={id} />;
}

function AlertView({ id }: { id: string }) {
  const { t } = useTranslation('alerts');
  const language = useLanguage();
  const me = useMe();
  const location = useLocation();
  const handed = (location.state ?? {}) as ComposeOutcome;
  const [alert, setAlert] = useState<Alert>();
  const [loadError, setLoadError] = useState<string>();
  const [rows, setRows] = useState<ReadonlyMap<string, DeliveryRow>>(new Map());
  const [serverCounts, setServerCounts] = useState<{ total: number; counts: Record<string, number> }>();
  const [escalatedAt, setEscalatedAt] = useState<string | null>(null);
  const [action, setAction] = useState<'approve' | 'issue' | 'cancel' | undefined>();
  const [actionError, setActionError] = useState<string | undefined>(handed.issueError);
  const [dialog, setDialog] = useState<'issue' | 'cancel'>();
  const [updating, setUpdating] = useState(false);
  const [cancelReason, setCancelReason] = useState('');
  const [cancelMessage, setCancelMessage] = useState('');
  const [newer, setNewer] = useState<Alert>();
  const places = useLoad(async () => {
    const [receivers, areas] = await Promise.all([fetchReceivers(), fetchAreas()]);
    return { receivers, areas, scope: new AlertScope(me, areas, receivers) };
  }, [me]);

  const loadAlert = useCallback(() => {
    fetchAlert(id).then(
      (a) => {
        setAlert(a);
        setLoadError(undefined);
      },
      (failure: unknown) => setLoadError(errorMessage(failure)),
    );
  }, [id]);
  const loadDeliveries = useCallback(() => {
    fetchDeliveries(id).then(
      (answer) => {
        setServerCounts({ total: answer.total, counts: answer.counts });
        setEscalatedAt(answer.escalatedAt);
        // An event may be newer than this answer: keep whichever state is further along.
        setRows((now) => {
          const next = new Map<string, DeliveryRow>();
          for (const row of answer.items) {
            const local = now.get(row.receiverId);
            next.set(
              row.receiverId,
              local && movesForward(row.state, local.state) ? { ...row, state: local.state } : row,
            );
          }
          return next;
        });
      },
      () => {
        // The next round tries again; the alert's own load reports errors.
      },
    );
  }, [id]);
  useEffect(() => {
    loadAlert();
    loadDeliveries();
    return onAlertsChanged(() => {
      loadAlert();
      loadDeliveries();
    });
  }, [loadAlert, loadDeliveries]);

  const waiting = alert ? waitsForApproval(alert) : false;
  const live = alert?.state === 'issued' || alert?.state === 'updated';
  useInterval(loadAlert, alert ? (waiting ? WAITING_MS : ALERT_MS) : null);
  // Deliveries move while the alert is on air, and for a little while after it was cancelled (the stops come in).
  const settling = alert?.cancelledAt ? Date.now() - new Date(alert.cancelledAt).getTime() < 120_000 : false;
  useInterval(loadDeliveries, live || settling ? DELIVERIES_MS : null);

  useFleetEvents((event) => {
    if (event.type !== 'alert.delivery' || event.alertId !== id) return;
    let unknown = false;
    setRows((now) => {
      const row = now.get(event.receiverId);
      if (!row) {
        unknown = true;
        return now;
      }
      const escalated = event.escalated ? { escalatedAt: event.at } : {};
      if (!movesForward(row.state, event.state) && !event.escalated) return now;
      const next = new Map(now);
      next.set(event.receiverId, {
        ...row,
        ...escalated,
        ...(movesForward(row.state, event.state) ? { state: event.state as DeliveryRow['state'] } : {}),
      });
      return next;
    });
    if (unknown) loadDeliveries();
  });

  // An alert replaced by an Update points to its newer revision.
  useEffect(() => {
    if (alert?.state !== 'updated') return;
    fetchAlerts().then(
      (all) => setNewer(all.find((a) => a.references === alert.id)),
      () => setNewer(undefined),
    );
  }, [alert?.state, alert?.id]);

  const counts = useMemo(() => {
    // The rows hold every receiver (up to 10 000): count them, as they move live; else the server's counts.
    if (serverCounts && rows.size < serverCounts.total) return serverCounts.counts;
    const tally: Record<string, number> = {};
    for (const row of rows.values()) tally[row.state] = (tally[row.state] ?? 0) + 1;
    return tally;
  }, [rows, serverCounts]);

  // A draft shows whom it will reach (as the compose form did), so the approver sees the area too.
  const planned = useMemo(() => {
    if (alert?.state !== 'draft' || !places.data) return undefined;
    const { scope } = places.data;
    const areas = new Set(alert.areas);
    return new Set(
      scope.receivers
        .filter((r) => scope.villageIn(r.villageCode, areas) || insideShapes(r.latitude, r.longitude, alert))
        .map((r) => r.id),
    );
  }, [alert, places.data]);

  if (!alert)
    return loadError ? (
      <LoadStatus loaded={{ error: loadError, loading: false, reload: loadAlert, data: undefined }} />
    ) : (
      <LoadStatus loaded={{ error: undefined, loading: true, reload: loadAlert, data: undefined }} />
    );

  const mine = alert.createdBy?.username === me.username;
  const canIssue = alert.state === 'draft' && (!alert.needsApproval || alert.approved);
  const headline = textOf(alert.headline, language);
  const total = serverCounts?.total ?? rows.size;
  const late = [...rows.values()].filter((r) => ['pending', 'unreachable', 'delivered'].includes(r.state));

  const run = async (kind: 'approve' | 'issue' | 'cancel', call: () => Promise<unknown>) => {
    setAction(kind);
    setActionError(undefined);
    try {
      await call();
      setDialog(undefined);
      announceAlertsChanged();
    } catch (problem) {
      setActionError(errorMessage(problem));
    } finally {
      setAction(undefined);
    }
  };
  const approve = () =>
    run('approve', async () =>
      setAlert((await must(api.POST('/alerts/{id}/approve', { params: { path: { id } } }))) as Alert),
    );
  const issue = () =>
    run('issue', async () => {
      const answer = await must(api.POST('/alerts/{id}/issue', { params: { path: { id } } }));
      setAlert(answer.alert as Alert);
      loadDeliveries();
    });
  const cancel = () =>
    run('cancel', async () => {
      setAlert(
        await cancelAlert(id, {
          ...(cancelReason.trim() ? { reason: cancelReason.trim() } : {}),
          ...(cancelMessage.trim() ? { message: { vie: cancelMessage.trim() } } : {}),
        }),
      );
    });

  return (
    <article className={`alert-page status-${alert.status.toLowerCase()}`}>
      <StatusBanner status={alert.status} />
      <p>
        <Link to="/alerts">{t('backToConsole')}</Link>
      </p>
      <h1>{headline}</h1>
      <p className="alert-tags">
        <StateBadge alert={alert} /> <RiskBadge level={alert.riskLevel} /> <HazardName hazard={alert.hazard} />
        {alert.revision > 0 && <span className="muted"> · {t('revision', { n: alert.revision })}</span>}
      </p>
      {alert.instruction.vie && <p className="alert-instruction">{textOf(alert.instruction, language)}</p>}

      <dl className="alert-facts">
        <Fact
          label={t('createdBy')}
          person={alert.createdBy}
          at={alert.createdAt}
          fallback={alert.origin === 'cap' ? t('byCap') : '—'}
        />
        {alert.needsApproval && (
          <Fact
            label={t('approvedBy')}
            person={alert.approvedBy}
            at={alert.approvedAt ?? null}
            fallback={t('notYetApproved')}
          />
        )}
        {alert.issuedAt && <Fact label={t('issuedBy')} person={alert.issuedBy} at={alert.issuedAt} fallback="—" />}
        {alert.cancelledAt && (
          <Fact label={t('cancelledBy')} person={alert.cancelledBy} at={alert.cancelledAt} fallback={t('byCap')} />
        )}
        {alert.cancelReason && (
          <>
            <dt>{t('cancelReason')}</dt>
            <dd>{alert.cancelReason}</dd>
          </>
        )}
        <dt>{t('expiresAt')}</dt>
        <dd>{formatDateTime(alert.expiresAt, language)}</dd>
        <dt>{t('targets')}</dt>
        <dd>
          {[
            ...alert.areas.map((code) => places.data?.areas.find((a) => a.code === code)?.name ?? code),
            ...(alert.polygons.length ? [t('targetPolygons', { count: alert.polygons.length })] : []),
            ...(alert.circles.length ? [t('targetCircles', { count: alert.circles.length })] : []),
          ].join(', ')}
        </dd>
        {alert.references && (
          <>
            <dt>{t('updates')}</dt>
            <dd>
              <Link to={`/alerts/${alert.references}`}>{t('previousRevision')}</Link>
            </dd>
          </>
        )}
        {newer && (
          <>
            <dt>{t('replacedBy')}</dt>
            <dd>
              <Link to={`/alerts/${newer.id}`}>{textOf(newer.headline, language)}</Link>
            </dd>
          </>
        )}
      </dl>

      {waiting && (
        <div className="approval-notice" role="status">
          <h2>{t('waitingTitle')}</h2>
          <p>{mine ? t('waitingMine') : t('waitingOther')}</p>
        </div>
      )}
      {alert.state === 'draft' && alert.needsApproval && alert.approved && (
        <p className="approval-done" role="status">
          {t('approvedNotice', { name: alert.approvedBy?.displayName ?? '—' })}
        </p>
      )}

      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      <div className="form-actions">
        {waiting && !mine && (
          <button type="button" className="primary" disabled={action !== undefined} onClick={() => void approve()}>
            {action === 'approve' ? t('approving') : t('approve')}
          </button>
        )}
        {alert.state === 'draft' && (
          <button
            type="button"
            className="danger"
            disabled={!canIssue || action !== undefined}
            onClick={() => {
              setActionError(undefined);
              setDialog('issue');
            }}
          >
            {t('issueEllipsis')}
          </button>
        )}
        {alert.state === 'issued' && !updating && (
          <button type="button" onClick={() => setUpdating(true)}>
            {t('updateOpen')}
          </button>
        )}
        {(alert.state === 'draft' || live) && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              setActionError(undefined);
              setDialog('cancel');
            }}
          >
            {alert.state === 'draft' ? t('cancelDraft') : t('cancelAlert')}
          </button>
        )}
      </div>
      {updating && <UpdateForm alert={alert} onClose={() => setUpdating(false)} />}

      {alert.state === 'draft' && (
        <section aria-labelledby="planned-title">
          <h2 id="planned-title">{t('plannedTitle')}</h2>
          <LoadStatus loaded={places} />
          {places.data && planned && (
            <>
              <p className="target-summary">{t('plannedSummary', { count: planned.size })}</p>
              <DeliveryMap
                alert={alert}
                receivers={places.data.scope.receivers}
                areas={places.data.areas}
                rows={rows}
                counts={counts}
                planned={planned}
              />
            </>
          )}
        </section>
      )}

      {alert.state !== 'draft' && (
        <section aria-labelledby="delivery-title" className="delivery">
          <h2 id="delivery-title">{t('deliveryTitle')}</h2>
          <p className="delivery-summary" aria-live="polite">
            {t('deliverySummary', {
              total,
              playing: counts.started ?? 0,
              finished: counts.finished ?? 0,
              problems: (counts.failed ?? 0) + (counts.unreachable ?? 0),
            })}
          </p>
          <LoadStatus loaded={places} />
          {places.data && (
            <DeliveryMap
              alert={alert}
              receivers={places.data.receivers}
              areas={places.data.areas}
              rows={rows}
              counts={counts}
            />
          )}
          {escalatedAt && late.length > 0 && (
            <div className="escalation" role="status">
              <h3>{t('escalatedTitle', { count: late.length })}</h3>
              <p>{t('escalatedHint', { at: formatDateTime(escalatedAt, language) })}</p>
            </div>
          )}
          <details open={rows.size <= 30}>
            <summary>{t('receiverTable', { count: rows.size })}</summary>
            <div className="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th>{t('colReceiver')}</th>
                    <th>{t('colVillage')}</th>
                    <th>{t('colState')}</th>
                    <th>{t('colSince')}</th>
                    <th>{t('colReason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...rows.values()].map((row) => (
                    <tr key={row.receiverId} className={`delivery-row delivery-${row.state}`}>
                      <td>{row.name}</td>
                      <td>{row.village.name}</td>
                      <td>
                        <span className="swatch" style={{ background: deliveryInfo(row.state).colour }} />{' '}
                        {t(deliveryInfo(row.state).label)}
                        {row.escalatedAt && <> · {t('escalated')}</>}
                      </td>
                      <td>{formatDateTime(row.endedAt ?? row.startedAt ?? row.deliveredAt, language)}</td>
                      <td>{row.reason ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </section>
      )}

      <CapView alertId={alert.id} />

      {dialog === 'issue' && (
        <ConfirmDialog
          title={alert.status === 'Actual' ? t('issueConfirmTitleActual') : t('issueConfirmTitleDrill')}
          confirmLabel={t('issueConfirm')}
          cancelLabel={t('issueBack')}
          busyLabel={t('issuing')}
          danger={alert.status === 'Actual'}
          busy={action === 'issue'}
          error={actionError}
          onConfirm={() => void issue()}
          onClose={() => setDialog(undefined)}
        >
          <StatusBanner status={alert.status} />
          <p>
            <strong>{headline}</strong>
          </p>
          <p>{t('issueConfirmBodyDraft')}</p>
        </ConfirmDialog>
      )}
      {dialog === 'cancel' && (
        <ConfirmDialog
          title={alert.state === 'draft' ? t('cancelDraftTitle') : t('cancelConfirmTitle')}
          confirmLabel={alert.state === 'draft' ? t('cancelDraftConfirm') : t('cancelConfirm')}
          cancelLabel={t('cancelKeep')}
          busyLabel={t('cancelling')}
          danger
          busy={action === 'cancel'}
          error={actionError}
          onConfirm={() => void cancel()}
          onClose={() => setDialog(undefined)}
        >
          <p>
            <strong>{headline}</strong>
          </p>
          {alert.state !== 'draft' && (
            <>
              <p>{t('cancelConfirmBody')}</p>
              <label>
                {t('cancelReasonField')}
                <input value={cancelReason} onChange={(e) => setCancelReason(e.target.value)} maxLength={500} />
              </label>
              <label>
                {t('cancelMessageField')}
                <textarea
                  rows={2}
                  value={cancelMessage}
                  onChange={(e) => setCancelMessage(e.target.value)}
                  maxLength={1000}
                  placeholder={t('cancelMessagePlaceholder')}
                />
              </label>
            </>
          )}
        </ConfirmDialog>
      )}
    </article>
  );
}

function Fact({
  label,
  person,
  at,
  fallback,
}: {
  label: string;
  person: AlertPerson | null | undefined;
  at: string | null;
  fallback: string;
}) {
  const language = useLanguage();
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {person ? `${person.displayName} (${person.username})` : fallback}
        {at && person !== null && person !== undefined && (
          <span className="muted"> · {formatDateTime(at, language)}</span>
        )}
      </dd>
    </>
  );
}
