import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage, must } from '../api/problem.ts';
import type { paths } from '../api/schema';

type Deliveries = paths['/live/sessions/{id}/deliveries']['get']['responses'][200]['content']['application/json'];
export type DeliveryState = Deliveries['items'][number]['state'];

/** In the order a delivery goes through them, the good end before the bad ones. */
export const DELIVERY_STATES: readonly DeliveryState[] = [
  'planned',
  'provisioned',
  'acknowledged',
  'started',
  'finished',
  'interrupted',
  'failed',
  'missed',
  'cancelled',
];
/** States a receiver may still leave once the session has ended (its report is on its way). */
const UNSETTLED: readonly DeliveryState[] = ['planned', 'provisioned', 'acknowledged', 'started'];
const REFRESH_MS = 5000;
const SETTLE_POLL_MS = 1000;
const SETTLE_MAX_MS = 15_000;

const RANK: Record<DeliveryState, number> = {
  planned: 0,
  provisioned: 1,
  acknowledged: 2,
  started: 3,
  finished: 4,
  interrupted: 4,
  failed: 4,
  missed: 4,
  cancelled: 4,
};
/** Deliveries only move forward (a late report may still turn "did not play" into a real end). */
const forward = (from: DeliveryState, to: DeliveryState) =>
  RANK[to] > RANK[from] || (from === 'missed' && to !== 'missed' && RANK[to] === 4);

/** One live event applied: the receiver's row moves, and the counts with it. */
function applyEvent(data: Deliveries, receiverId: string, state: DeliveryState): Deliveries {
  const item = data.items.find((i) => i.receiverId === receiverId);
  if (!item || !forward(item.state, state)) return data;
  const counts = { ...data.counts };
  counts[item.state] = Math.max(0, (counts[item.state] ?? 0) - 1);
  counts[state] = (counts[state] ?? 0) + 1;
  return {
    ...data,
    counts,
    items: data.items.map((i) => (i.receiverId === receiverId ? { ...i, state } : i)),
  };
}

/**
 * The receivers of one session, as counts by state and receiver by receiver: loaded from
 * GET /live/sessions/{id}/deliveries, moved by `live.delivery` events as they come, and
 * reloaded now and then (an event lost on a reconnect is not lost for good). Once the
 * session has ended it keeps asking until every receiver's final report is in.
 */
export function LiveDeliveries({ sessionId, ended }: { sessionId: string; ended: boolean }) {
  const { t } = useTranslation('live');
  const [data, setData] = useState<Deliveries>();
  const [error, setError] = useState<string>();
  const [settling, setSettling] = useState(false);
  const latest = useRef<Deliveries | undefined>(undefined);
  /** Events that came before the first answer: applied to it (forward only, so an older event changes nothing). */
  const early = useRef<Array<{ receiverId: string; state: DeliveryState }>>([]);

  const load = useCallback(async () => {
    try {
      const answer = await must(
        api.GET('/live/sessions/{id}/deliveries', { params: { path: { id: sessionId }, query: { limit: 1000 } } }),
      );
      let current = answer;
      for (const e of early.current.splice(0)) current = applyEvent(current, e.receiverId, e.state);
      latest.current = current;
      setData(current);
      setError(undefined);
      return answer;
    } catch (failure) {
      setError(errorMessage(failure));
      return undefined;
    }
  }, [sessionId]);

  useEffect(() => {
    let stopped = false;
    if (!ended) {
      void load();
      const timer = setInterval(() => void load(), REFRESH_MS);
      return () => clearInterval(timer);
    }
    // Ended: the last reports (finished, missed) arrive within a second or two.
    setSettling(true);
    const started = Date.now();
    const poll = async () => {
      while (!stopped) {
        const answer = await load();
        const open = answer ? UNSETTLED.reduce((n, s) => n + (answer.counts[s] ?? 0), 0) : 1;
        if (open === 0 || Date.now() - started > SETTLE_MAX_MS) break;
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      }
      if (!stopped) setSettling(false);
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [load, ended]);

  useFleetEvents((event) => {
    if (event.type !== 'live.delivery' || event.sessionId !== sessionId) return;
    const state = event.state as DeliveryState;
    if (!latest.current) {
      early.current.push({ receiverId: event.receiverId, state });
      return;
    }
    latest.current = applyEvent(latest.current, event.receiverId, state);
    setData(latest.current);
  });

  return (
    <section className="live-deliveries" aria-labelledby="live-deliveries-heading">
      <h2 id="live-deliveries-heading">{t('deliveriesHeading', { count: data?.total ?? 0 })}</h2>
      {error && (
        <p className="error" role="alert">
          {t('deliveriesError', { detail: error })}
        </p>
      )}
      {!data && !error && <p aria-live="polite">{t('loadingDeliveries')}</p>}
      {data && (
        <>
          <ul className="delivery-counts" aria-label={t('deliveryCountsLabel')}>
            {DELIVERY_STATES.filter((s) => (data.counts[s] ?? 0) > 0).map((s) => (
              <li key={s} className={`delivery-count delivery-${s}`}>
                <strong>{data.counts[s]}</strong> {t(`delivery_${s}`)}
              </li>
            ))}
          </ul>
          {settling && UNSETTLED.some((s) => (data.counts[s] ?? 0) > 0) && (
            <p className="muted">{t('deliveriesSettling')}</p>
          )}
          <details>
            <summary>{t('deliveriesEach')}</summary>
            <div className="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('colReceiver')}</th>
                    <th scope="col">{t('colVillage')}</th>
                    <th scope="col">{t('colState')}</th>
                    <th scope="col">{t('colReason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((item) => (
                    <tr key={item.receiverId}>
                      <td>
                        {item.name}
                        {!item.online && <small className="muted"> ({t('offline')})</small>}
                      </td>
                      <td>{item.village.name}</td>
                      <td>
                        <span className={`delivery-state delivery-${item.state}`}>{t(`delivery_${item.state}`)}</span>
                      </td>
                      <td>{item.reason ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}
