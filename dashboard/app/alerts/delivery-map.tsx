import L from 'leaflet';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { AreaMap, type MapArea, type MapReceiver } from '../map/area-map.tsx';
import type { Alert, Area, DeliveryRow, Receiver } from './alert-api.ts';
import { DELIVERY_STATES, deliveryInfo, OUTSIDE } from './delivery-states.ts';

const TARGET = '#c62828';

export interface DeliveryMapProps {
  alert: Pick<Alert, 'areas' | 'polygons' | 'circles'>;
  /** Every receiver the user can see (positions), the alert's or not. */
  receivers: readonly Receiver[];
  areas: readonly Area[];
  rows: ReadonlyMap<string, Pick<DeliveryRow, 'state'>>;
  counts: Readonly<Record<string, number>>;
  /** A draft: the receivers its targets will reach (nothing is delivered yet). */
  planned?: ReadonlySet<string>;
}

const PLANNED = { state: 'inside', colour: '#c62828' } as const;

/**
 * An alert's targets on the map (its drawn shapes, its areas' outlines) with each receiver
 * it went to in the colour of its delivery state (class `state-<state>`), the others pale;
 * the legend names each state with its count, so colour is not the only sign.
 */
export function DeliveryMap({ alert, receivers, areas, rows, counts, planned }: DeliveryMapProps) {
  const { t } = useTranslation('alerts');
  const layer = useRef<L.FeatureGroup | null>(null);
  const map = useRef<L.Map | null>(null);
  const onMap = useCallback((created: L.Map) => {
    map.current = created;
    layer.current = L.featureGroup().addTo(created);
  }, []);

  useEffect(() => {
    const group = layer.current;
    if (!group) return;
    group.clearLayers();
    const style = { color: TARGET, weight: 3, fillOpacity: 0.08, interactive: false };
    for (const ring of alert.polygons) L.polygon(ring, style).addTo(group);
    for (const c of alert.circles) L.circle([c.lat, c.lon], { ...style, radius: c.radiusKm * 1000 }).addTo(group);
  }, [alert.polygons, alert.circles]);

  // Zoomed to the alert once (the map first fits to every receiver the user sees, a whole province maybe).
  const fitted = useRef(false);
  useEffect(() => {
    const m = map.current;
    if (fitted.current || !m) return;
    const reached = planned ?? new Set(rows.keys());
    const bounds = L.latLngBounds([]);
    const shapes = layer.current?.getBounds();
    if (shapes?.isValid()) bounds.extend(shapes);
    for (const r of receivers) if (reached.has(r.id)) bounds.extend([r.latitude, r.longitude]);
    if (!bounds.isValid()) return;
    m.fitBounds(bounds.pad(0.25), { maxZoom: 16, animate: false });
    fitted.current = true;
  }, [receivers, rows, planned]);

  const targeted = useMemo(() => new Set(alert.areas), [alert.areas]);
  const mapAreas = useMemo<MapArea[]>(
    () =>
      areas
        .filter((a) => a.boundary && targeted.has(a.code))
        .map((a) => ({ code: a.code, name: a.name, boundary: a.boundary ?? null, colour: TARGET })),
    [areas, targeted],
  );
  const mapReceivers = useMemo<MapReceiver[]>(
    () =>
      receivers.map((r) => {
        const row = rows.get(r.id);
        const info = planned ? (planned.has(r.id) ? PLANNED : OUTSIDE) : row ? deliveryInfo(row.state) : OUTSIDE;
        return {
          id: r.id,
          name: r.name,
          latitude: r.latitude,
          longitude: r.longitude,
          colour: info.colour,
          state: info.state,
        };
      }),
    [receivers, rows, planned],
  );

  return (
    <div className="delivery-map">
      <AreaMap areas={mapAreas} receivers={mapReceivers} onMap={onMap} />
      {planned ? (
        <ul className="legend" aria-label={t('legend')}>
          <li>
            <span className="swatch" style={{ background: PLANNED.colour }} />
            {t('legendInside', { count: planned.size })}
          </li>
          <li>
            <span className="swatch" style={{ background: OUTSIDE.colour }} />
            {t('legendOutside', { count: receivers.length - planned.size })}
          </li>
        </ul>
      ) : (
        <ul className="legend" aria-label={t('legend')}>
          {DELIVERY_STATES.map((s) => (
            <li key={s.state} className={`legend-${s.state}`}>
              <span className="swatch" style={{ background: s.colour }} />
              {t(s.label)}: <strong>{counts[s.state] ?? 0}</strong>
            </li>
          ))}
          <li>
            <span className="swatch" style={{ background: OUTSIDE.colour }} />
            {t(OUTSIDE.label)}
          </li>
        </ul>
      )}
    </div>
  );
}
