import './leaflet-global.ts';
import '@geoman-io/leaflet-geoman-free';
import '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css';
import L from 'leaflet';
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AreaMap, type MapArea, type MapReceiver } from '../map/area-map.tsx';
import { type Circle, type Ring, round6, type Shapes } from './geometry.ts';
import type { AlertScope } from './scope.ts';

const TARGET = '#c62828';
const INSIDE = { colour: '#c62828', state: 'inside' };
const OUTSIDE = { colour: '#e4e9ed', state: 'outside' };

type DrawMode = 'none' | 'Polygon' | 'Circle';

export interface TargetMapProps {
  scope: AlertScope;
  selectedAreas: ReadonlySet<string>;
  shapes: Shapes;
  onShapes(shapes: Shapes): void;
  /** Receivers the targets reach (computed by the form, shown red). */
  inside: ReadonlySet<string>;
}

/** Geoman's polygon tool finishes on a click on the first vertex; the Finish button does the same for the keyboard. */
type PolygonDraw = { _finishShape?: () => void };

/**
 * The compose form's map: the user's receivers (red: inside the targets, pale: outside),
 * the picked areas' outlines, and drawing of polygons and circles (Leaflet-Geoman). Each
 * finished shape becomes a target in the API's form (rings of [lat, lon]; circles with
 * a radius in km); the drawn layer itself is replaced by one made from that target, so
 * what is seen is exactly what will be sent.
 */
export function TargetMap({ scope, selectedAreas, shapes, onShapes, inside }: TargetMapProps) {
  const { t } = useTranslation('alerts');
  const map = useRef<L.Map | null>(null);
  const targets = useRef<L.FeatureGroup | null>(null);
  const [mode, setMode] = useState<DrawMode>('none');
  const latest = useRef({ shapes, onShapes });
  latest.current = { shapes, onShapes };

  const onMap = useCallback((created: L.Map) => {
    map.current = created;
    targets.current = L.featureGroup().addTo(created);
    created.on('pm:drawstart', (e) => setMode(e.shape === 'Circle' ? 'Circle' : 'Polygon'));
    created.on('pm:drawend', () => setMode('none'));
    created.on('pm:create', (e) => {
      const { shapes: now, onShapes: change } = latest.current;
      created.removeLayer(e.layer);
      if (e.shape === 'Circle' && e.layer instanceof L.Circle) {
        const centre = e.layer.getLatLng();
        const circle: Circle = {
          lat: round6(centre.lat),
          lon: round6(centre.lng),
          radiusKm: Math.max(0.01, Math.round(e.layer.getRadius()) / 1000),
        };
        change({ ...now, circles: [...now.circles, circle] });
      } else if (e.layer instanceof L.Polygon) {
        const points = (e.layer.getLatLngs()[0] ?? []) as L.LatLng[];
        const ring: Ring = points.map((p) => [round6(p.lat), round6(p.lng)]);
        if (ring.length >= 3) change({ ...now, polygons: [...now.polygons, ring] });
      }
    });
  }, []);

  // The targets as they will be sent, redrawn whenever they change.
  useEffect(() => {
    const group = targets.current;
    if (!group) return;
    group.clearLayers();
    const style = { color: TARGET, weight: 3, fillOpacity: 0.12, pmIgnore: true, interactive: false };
    for (const ring of shapes.polygons) L.polygon(ring, style).addTo(group);
    for (const c of shapes.circles) L.circle([c.lat, c.lon], { ...style, radius: c.radiusKm * 1000 }).addTo(group);
  }, [shapes]);

  useEffect(() => () => map.current?.pm?.disableDraw(), []);

  const draw = (shape: 'Polygon' | 'Circle') => {
    const m = map.current;
    if (!m) return;
    m.pm.disableDraw();
    m.pm.enableDraw(shape, {
      snappable: false,
      tooltips: false,
      finishOnEnter: true,
      allowSelfIntersection: false,
      templineStyle: { color: TARGET },
      hintlineStyle: { color: TARGET, dashArray: [5, 5] },
      pathOptions: { color: TARGET },
    });
    setMode(shape);
  };
  const finish = () => {
    const polygon = (map.current?.pm.Draw as unknown as { Polygon?: PolygonDraw } | undefined)?.Polygon;
    polygon?._finishShape?.();
  };
  const stop = () => {
    map.current?.pm.disableDraw();
    setMode('none');
  };

  const mapAreas = useMemo<MapArea[]>(
    () =>
      scope.areas
        .filter((a) => a.boundary)
        .map((a) => ({
          code: a.code,
          name: a.name,
          boundary: a.boundary ?? null,
          colour: selectedAreas.has(a.code) ? TARGET : '#1d5fa8',
        })),
    [scope, selectedAreas],
  );
  const receivers = useMemo<MapReceiver[]>(
    () =>
      scope.receivers.map((r) => ({
        id: r.id,
        name: r.name,
        latitude: r.latitude,
        longitude: r.longitude,
        ...(inside.has(r.id) ? INSIDE : OUTSIDE),
      })),
    [scope, inside],
  );

  const shapeCount = shapes.polygons.length + shapes.circles.length;
  return (
    <div className="target-map">
      <fieldset className="draw-tools">
        <legend className="visually-hidden">{t('drawTools')}</legend>
        <button type="button" onClick={() => draw('Polygon')} aria-pressed={mode === 'Polygon'}>
          {t('drawPolygon')}
        </button>
        <button type="button" onClick={() => draw('Circle')} aria-pressed={mode === 'Circle'}>
          {t('drawCircle')}
        </button>
        {mode === 'Polygon' && (
          <button type="button" onClick={finish}>
            {t('drawFinish')}
          </button>
        )}
        {mode !== 'none' && (
          <button type="button" onClick={stop}>
            {t('drawStop')}
          </button>
        )}
        {shapeCount > 0 && (
          <button type="button" onClick={() => onShapes({ polygons: [], circles: [] })}>
            {t('drawClear')}
          </button>
        )}
      </fieldset>
      <p className="draw-hint" aria-live="polite">
        {mode === 'Polygon' ? t('drawPolygonHint') : mode === 'Circle' ? t('drawCircleHint') : t('drawIdleHint')}
      </p>
      <AreaMap areas={mapAreas} receivers={receivers} onMap={onMap} className="compose-map" />
      <ul className="legend" aria-label={t('legend')}>
        <li>
          <span className="swatch" style={{ background: INSIDE.colour }} />
          {t('legendInside', { count: inside.size })}
        </li>
        <li>
          <span className="swatch" style={{ background: OUTSIDE.colour }} />
          {t('legendOutside', { count: scope.receivers.length - inside.size })}
        </li>
      </ul>
      {shapeCount > 0 && (
        <ul className="shape-list" aria-label={t('drawnShapes')}>
          {shapes.polygons.map((ring, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: drawn shapes have no id; the list is redrawn whole
            <li key={`p${i}`}>
              {t('shapePolygon', { n: i + 1, points: ring.length })}{' '}
              <button
                type="button"
                onClick={() => onShapes({ ...shapes, polygons: shapes.polygons.filter((_, j) => j !== i) })}
              >
                {t('shapeRemove')}
              </button>
            </li>
          ))}
          {shapes.circles.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: drawn shapes have no id; the list is redrawn whole
            <li key={`c${i}`}>
              {t('shapeCircle', { n: i + 1, lat: c.lat, lon: c.lon, km: c.radiusKm })}{' '}
              <button
                type="button"
                onClick={() => onShapes({ ...shapes, circles: shapes.circles.filter((_, j) => j !== i) })}
              >
                {t('shapeRemove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <CircleByCoordinates onAdd={(circle) => onShapes({ ...shapes, circles: [...shapes.circles, circle] })} />
    </div>
  );
}

/** A circle typed in (centre and radius): the keyboard's way to draw. */
function CircleByCoordinates({ onAdd }: { onAdd(circle: Circle): void }) {
  const { t } = useTranslation('alerts');
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [km, setKm] = useState('1');
  const [error, setError] = useState<string>();
  const add = (event: FormEvent) => {
    event.preventDefault();
    const circle = { lat: Number(lat), lon: Number(lon), radiusKm: Number(km) };
    if (
      !lat ||
      !lon ||
      !(Math.abs(circle.lat) <= 90 && Math.abs(circle.lon) <= 180 && circle.radiusKm > 0 && circle.radiusKm <= 500)
    ) {
      setError(t('circleInvalid'));
      return;
    }
    setError(undefined);
    onAdd(circle);
  };
  return (
    <details className="circle-form">
      <summary>{t('circleByCoordinates')}</summary>
      {/* Not a nested <form>: the compose page is one form; Enter here adds the circle only. */}
      <fieldset
        onKeyDown={(e) => {
          if (e.key === 'Enter') add(e);
        }}
      >
        <legend className="visually-hidden">{t('circleByCoordinates')}</legend>
        <label>
          {t('circleLat')}
          <input inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} />
        </label>
        <label>
          {t('circleLon')}
          <input inputMode="decimal" value={lon} onChange={(e) => setLon(e.target.value)} />
        </label>
        <label>
          {t('circleKm')}
          <input inputMode="decimal" value={km} onChange={(e) => setKm(e.target.value)} />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="button" onClick={add}>
          {t('circleAdd')}
        </button>
      </fieldset>
    </details>
  );
}
