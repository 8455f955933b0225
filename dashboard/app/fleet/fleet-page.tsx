import L from 'leaflet';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { formatTime } from '../i18n/time.ts';
import { AreaMap, type MapArea, type MapReceiver } from '../map/area-map.tsx';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import {
  byUrgency,
  countOf,
  FLEET_SEARCH_KEY,
  type FleetFilter,
  filterFromParams,
  filterToParams,
  inView,
  matches,
} from './fleet-filter.ts';
import { FleetFilters } from './fleet-filters.tsx';
import { stateLabel, useNow } from './fleet-format.ts';
import { FleetTable } from './fleet-table.tsx';
import { limitZoom } from './map-zoom.ts';
import { ancestry, boundaryOf, type ReceiverState, STATE_COLOUR, stateOf, versionOf } from './receiver-view.ts';
import { useFleet } from './use-fleet.ts';
import './fleet.css';

const PAGE_ROWS = 200;
const STATES: ReceiverState[] = ['online', 'fault', 'offline', 'disabled'];

export function FleetPage() {
  const me = useMe();
  if (!hasRole(me, 'technician', 'official', 'emergency')) return <Forbidden />;
  return <Fleet />;
}

function Fleet() {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const navigate = useNavigate();
  const fleet = useFleet();
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const [rows, setRows] = useState(PAGE_ROWS);
  const search = params.toString();

  useEffect(() => {
    sessionStorage.setItem(FLEET_SEARCH_KEY, search);
  }, [search]);
  const change = (next: FleetFilter) => {
    setParams(filterToParams(next), { replace: true });
    setRows(PAGE_ROWS);
  };

  const { receivers, areas } = fleet;
  const view = useMemo(() => inView(receivers, areas, filter), [receivers, areas, filter]);
  const shown = useMemo(() => view.filter((r) => matches(r, filter)).sort(byUrgency), [view, filter]);
  const counts = countOf(view);
  const versions = useMemo(() => [...new Set(receivers.map(versionOf))].sort(), [receivers]);
  const mapReceivers = useMemo<MapReceiver[]>(
    () =>
      shown.map((r) => {
        const state = stateOf(r);
        return {
          id: r.id,
          name: r.name,
          latitude: r.latitude,
          longitude: r.longitude,
          colour: STATE_COLOUR[state],
          state,
        };
      }),
    [shown],
  );
  const mapAreas = useMemo<MapArea[]>(
    () =>
      [...areas.values()]
        .filter(
          (a) =>
            a.level === 'commune' && boundaryOf(a) && (!filter.area || ancestry(areas, a.code).includes(filter.area)),
        )
        .map((a) => ({ code: a.code, name: a.name, boundary: boundaryOf(a) })),
    [areas, filter.area],
  );
  // A new filter (or the first whole list) shows its receivers; live changes keep the user's view.
  const map = useRef<L.Map | null>(null);
  const shownNow = useRef(shown);
  shownNow.current = shown;
  // biome-ignore lint/correctness/useExhaustiveDependencies: refit when the filter or the first load changes, not on live updates
  useEffect(() => {
    const list = shownNow.current;
    if (!map.current || fleet.loading || list.length === 0) return;
    // Not animated: a second filter change during the zoom animation would leave the view half-way.
    map.current.fitBounds(L.latLngBounds(list.map((r) => [r.latitude, r.longitude])).pad(0.1), {
      animate: false,
      maxZoom: 15,
    });
  }, [search, fleet.loading]);
  const byState = useMemo(() => {
    const n: Record<ReceiverState, number> = { online: 0, fault: 0, offline: 0, disabled: 0 };
    for (const r of shown) n[stateOf(r)]++;
    return n;
  }, [shown]);

  return (
    <section className="fleet-page">
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      <ul className="fleet-counts" aria-label={t('countsLabel')}>
        <li>{t('countTotal', { n: counts.total })}</li>
        <li className="count-online">{t('countOnline', { n: counts.online })}</li>
        <li className={counts.offline > 0 ? 'count-offline alarm' : 'count-offline'}>
          {t('countOffline', { n: counts.offline })}
        </li>
        <li className={counts.faults > 0 ? 'count-faults alarm' : 'count-faults'}>
          {t('countFaults', { n: counts.faults })}
        </li>
      </ul>
      <div className="fleet-status">
        {fleet.error ? (
          <p className="error" role="alert">
            {fleet.error}{' '}
            <button type="button" onClick={fleet.reload}>
              {t('refresh')}
            </button>
          </p>
        ) : fleet.loading ? (
          <p role="status">
            <progress /> {t('loadingProgress', { n: receivers.length })}
          </p>
        ) : (
          <p className="muted">
            {fleet.loadedAt && t('updatedAt', { time: formatTime(fleet.loadedAt, language) })}{' '}
            <button type="button" onClick={fleet.reload}>
              {t('refresh')}
            </button>
          </p>
        )}
      </div>
      <FleetFilters filter={filter} onChange={change} areas={areas} versions={versions} />
      <div className="fleet-map">
        <AreaMap
          areas={mapAreas}
          receivers={mapReceivers}
          onMap={(created) => {
            limitZoom(created);
            map.current = created;
          }}
          onReceiverClick={(id) => navigate(`/fleet/${encodeURIComponent(id)}`)}
        />
        <ul className="legend" aria-label={t('legendLabel')}>
          {STATES.map((state) => (
            <li key={state}>
              <span className="swatch" style={{ background: STATE_COLOUR[state] }} aria-hidden="true" />
              {t('legendItem', { label: stateLabel(t, state), n: byState[state] })}
            </li>
          ))}
        </ul>
      </div>
      {!fleet.loading && receivers.length === 0 && !fleet.error && <p>{t('noneInScope')}</p>}
      {receivers.length > 0 && shown.length === 0 && <p>{t('noneMatch')}</p>}
      {shown.length > 0 && (
        <>
          <p className="muted" aria-live="polite">
            {t('showing', { shown: Math.min(rows, shown.length), matching: shown.length })}
          </p>
          <FleetTable receivers={shown.slice(0, rows)} areas={areas} now={now} />
          {shown.length > rows && (
            <button type="button" onClick={() => setRows((n) => n + PAGE_ROWS)}>
              {t('showMore')}
            </button>
          )}
        </>
      )}
    </section>
  );
}
