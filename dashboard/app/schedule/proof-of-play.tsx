import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { loadAreas } from '../api/areas.ts';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage, must } from '../api/problem.ts';
import type { paths } from '../api/schema';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime, fromVietnamInput, toVietnamInput } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { Delivery, DeliveryState } from './api-types.ts';
import { areaLabel } from './areas.ts';
import { DELIVERY_STATES, stateLabel } from './labels.ts';
import { DAY_MS } from './week-layout.ts';
import './schedule.css';

const PAGE = 200;
/** Live changes of one airtime are fetched together once this quiet time has passed. */
const LIVE_DEBOUNCE_MS = 700;

type Query = paths['/deliveries']['get']['parameters']['query'];

/** An instant from a filter value (Vietnam wall time), or undefined for none / an unreadable one. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  try {
    return fromVietnamInput(local);
  } catch {
    return undefined;
  }
}

/** Proof of play: what each receiver actually played, with filters, paging and live changes. */
export function ProofOfPlay() {
  const me = useMe();
  if (!hasRole(me, 'official', 'emergency', 'technician')) return <Forbidden />;
  return <ProofOfPlayPage />;
}

function ProofOfPlayPage() {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const [params, setParams] = useSearchParams();
  const areas = useLoad(() => loadAreas(), []);
  const schedules = useLoad(
    async () => (await must(api.GET('/schedules', { params: { query: { limit: 500 } } }))).items,
    [],
  );
  const area = params.get('area') ?? '';
  const receivers = useLoad(
    async () =>
      (await must(api.GET('/receivers', { params: { query: { limit: 500, ...(area ? { area } : {}) } } }))).items,
    [area],
  );
  const names = useMemo(() => new Map((receivers.data ?? []).map((r) => [r.id, r.name])), [receivers.data]);

  const schedule = params.get('schedule') ?? '';
  const receiver = params.get('receiver') ?? '';
  const state = (params.get('state') ?? '') as DeliveryState | '';
  // Without a schedule, the last week up to the coming hour; with one, all of its airtimes.
  const [defaults] = useState(() => ({
    from: toVietnamInput(new Date(Date.now() - 7 * DAY_MS)),
    to: toVietnamInput(new Date(Date.now() + 3600_000)),
  }));
  const from = params.get('from') ?? (schedule ? '' : defaults.from);
  const to = params.get('to') ?? (schedule ? '' : defaults.to);

  const query = useMemo<Query>(() => {
    const fromAt = instant(from);
    const toAt = instant(to);
    return {
      limit: PAGE,
      ...(area ? { area } : {}),
      ...(schedule ? { schedule } : {}),
      ...(receiver ? { receiver } : {}),
      ...(state ? { state: [state] } : {}),
      ...(fromAt ? { from: fromAt } : {}),
      ...(toAt ? { to: toAt } : {}),
    };
  }, [area, schedule, receiver, state, from, to]);

  const [rows, setRows] = useState<Delivery[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const generation = useRef(0);

  const load = useCallback(
    async (after: string | null) => {
      const mine = after ? generation.current : ++generation.current;
      setLoading(true);
      setError(undefined);
      try {
        const page = await must(
          api.GET('/deliveries', { params: { query: { ...query, ...(after ? { cursor: after } : {}) } } }),
        );
        if (mine !== generation.current) return;
        setRows((current) => (after ? merge(current, page.items) : page.items));
        setCursor(page.nextCursor);
      } catch (failure) {
        if (mine === generation.current) setError(errorMessage(failure));
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [query],
  );
  useEffect(() => {
    void load(null);
  }, [load]);

  // Live: a delivery that changed is shown at once, and its airtime's rows fetched again
  // (for the times played and any row the filters now take in).
  const waiting = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useFleetEvents((event) => {
    if (event.type !== 'delivery.state') return;
    setRows((current) =>
      current.map((r) =>
        r.occurrenceId === event.occurrenceId && r.receiverId === event.receiverId
          ? { ...r, state: event.state as DeliveryState }
          : r,
      ),
    );
    waiting.current.add(event.occurrenceId);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const occurrences = [...waiting.current];
      waiting.current.clear();
      const mine = generation.current;
      for (const occurrence of occurrences)
        must(api.GET('/deliveries', { params: { query: { ...query, limit: 500, occurrence } } })).then(
          (page) => {
            if (mine === generation.current) setRows((current) => merge(current, page.items));
          },
          () => {},
        );
    }, LIVE_DEBOUNCE_MS);
  });
  useEffect(() => () => clearTimeout(timer.current), []);

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value === '' && !['from', 'to'].includes(key)) next.delete(key);
    else next.set(key, value);
    if (key === 'area') next.delete('receiver');
    setParams(next);
  };

  const sorted = useMemo(
    () =>
      [...rows].sort(
        (a, b) =>
          b.startsAt.localeCompare(a.startsAt) || a.receiverId.localeCompare(b.receiverId, 'vi', { numeric: true }),
      ),
    [rows],
  );
  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const r of rows) c.set(r.state, (c.get(r.state) ?? 0) + 1);
    return DELIVERY_STATES.filter((s) => c.has(s)).map((s) => `${stateLabel(t, s)}: ${c.get(s)}`);
  }, [rows, t]);

  return (
    <section className="proof-of-play">
      <h1>{t('proofTitle')}</h1>
      <p className="muted">{t('proofIntro')}</p>
      <form className="filters" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('area')}
          <select value={area} onChange={(e) => set('area', e.target.value)}>
            <option value="">{t('allAreas')}</option>
            {areas.data?.map((a) => (
              <option key={a.code} value={a.code}>
                {areaLabel(a)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('scheduleFilter')}
          <select value={schedule} onChange={(e) => set('schedule', e.target.value)}>
            <option value="">{t('allSchedules')}</option>
            {schedule && !schedules.data?.some((s) => s.id === schedule) && (
              <option value={schedule}>{schedule}</option>
            )}
            {schedules.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {s.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('receiver')}
          <select value={receiver} onChange={(e) => set('receiver', e.target.value)}>
            <option value="">{t('allReceivers')}</option>
            {receivers.data?.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('state')}
          <select value={state} onChange={(e) => set('state', e.target.value)}>
            <option value="">{t('allStates')}</option>
            {DELIVERY_STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(t, s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('fromTime')}
          <input type="datetime-local" value={from} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label>
          {t('toTime')}
          <input type="datetime-local" value={to} onChange={(e) => set('to', e.target.value)} />
        </label>
      </form>
      <LoadStatus loaded={schedules} />
      <p aria-live="polite" className="proof-summary">
        {t('proofLoaded', { count: rows.length })}
        {counts.length > 0 && ` — ${counts.join(' · ')}`}
      </p>
      {error && (
        <p className="error" role="alert">
          {t('loadFailed', { detail: error })}{' '}
          <button type="button" onClick={() => void load(null)}>
            {t('retry')}
          </button>
        </p>
      )}
      <div className="table-scroll">
        <table className="deliveries">
          <caption className="visually-hidden">{t('proofTitle')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('receiver')}</th>
              <th scope="col">{t('announcement')}</th>
              <th scope="col">{t('scheduledAt')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('playedFrom')}</th>
              <th scope="col">{t('playedTo')}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((d) => (
              <tr key={d.id} data-receiver={d.receiverId}>
                <td>
                  {names.get(d.receiverId) ?? d.receiverId}
                  <small className="muted block">
                    {d.receiverId} · {d.villageCode}
                  </small>
                </td>
                <td>{d.title}</td>
                <td>{formatDateTime(d.startsAt, language)}</td>
                <td>
                  <span className={`state state-${d.state}`}>{stateLabel(t, d.state)}</span>
                  {d.reason && <small className="muted block">{d.reason}</small>}
                </td>
                <td>{formatDateTime(d.startedAt, language)}</td>
                <td>{formatDateTime(d.finishedAt, language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!loading && rows.length === 0 && !error && <p className="muted">{t('proofEmpty')}</p>}
      {loading && <p aria-live="polite">{t('loading')}</p>}
      {cursor && !loading && (
        <button type="button" onClick={() => void load(cursor)}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}

/** Rows by id, newer answers replacing older ones. */
function merge(current: Delivery[], fresh: Delivery[]): Delivery[] {
  const byId = new Map(current.map((d) => [d.id, d]));
  for (const d of fresh) byId.set(d.id, d);
  return [...byId.values()];
}
