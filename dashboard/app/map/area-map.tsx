import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { MAP_TILE_URL } from './tiles.ts';

export interface MapArea {
  code: string;
  name: string;
  /** GeoJSON geometry of the outline, when the area has one. */
  boundary?: GeoJSON.Geometry | null;
  /** Outline colour; default a neutral blue. */
  colour?: string;
}

export interface MapReceiver {
  id: string;
  name: string;
  latitude: number;
  longitude: number;
  /** Fill colour (its state); the legend beside the map says what each means. */
  colour: string;
  /** A word for its state, added as the class `state-<state>`. */
  state: string;
  /** Its state in words, in the user's language, for the tooltip (default: `state`). */
  label?: string;
}

export interface AreaMapProps {
  areas: readonly MapArea[];
  receivers: readonly MapReceiver[];
  onReceiverClick?: (id: string) => void;
  /** The Leaflet map, once made: features add their own layers (drawing, selections). */
  onMap?: (map: L.Map) => void;
  className?: string;
}

/**
 * Leaflet map of area outlines and receivers. With a tile URL (MAP_TILE_URL) the base
 * map is drawn under them; without one (no tile server reachable from a commune office)
 * the outlines and receivers stand on a plain background and the map still works.
 * Receivers are SVG circles with class `receiver receiver-<id> state-<state>`.
 */
export function AreaMap({ areas, receivers, onReceiverClick, onMap, className }: AreaMapProps) {
  const { t } = useTranslation('map');
  const element = useRef<HTMLElement>(null);
  const map = useRef<L.Map | null>(null);
  const areaLayer = useRef<L.GeoJSON | null>(null);
  const receiverLayer = useRef<L.LayerGroup | null>(null);
  const fitted = useRef(false);
  const clicks = useRef(onReceiverClick);
  clicks.current = onReceiverClick;
  const drawn = useRef(receivers);
  drawn.current = receivers;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the map is made once; onMap is read then
  useEffect(() => {
    if (!element.current) return;
    // maxZoom: without a tile layer Leaflet has no zoom limit, and fitting one receiver would zoom without end.
    const created = L.map(element.current, {
      zoomControl: true,
      attributionControl: Boolean(MAP_TILE_URL),
      maxZoom: 18,
    });
    if (MAP_TILE_URL) L.tileLayer(MAP_TILE_URL, { maxZoom: 19 }).addTo(created);
    created.setView([16.0, 107.5], 6);
    areaLayer.current = L.geoJSON(undefined, {
      interactive: false,
      style: (feature) => ({ color: feature?.properties?.colour ?? '#1d5fa8', weight: 2, fillOpacity: 0.06 }),
    }).addTo(created);
    receiverLayer.current = L.layerGroup().addTo(created);
    map.current = created;
    onMap?.(created);
    return () => {
      created.remove();
      map.current = null;
      fitted.current = false;
    };
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: fit reads refs only
  useEffect(() => {
    const layer = areaLayer.current;
    if (!layer) return;
    layer.clearLayers();
    for (const area of areas) {
      if (!area.boundary) continue;
      const properties = { code: area.code, colour: area.colour };
      layer.addData({ type: 'Feature', properties, geometry: area.boundary } as GeoJSON.Feature);
    }
    fit();
  }, [areas]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: fit reads refs only
  useEffect(() => {
    const layer = receiverLayer.current;
    if (!layer) return;
    layer.clearLayers();
    for (const receiver of receivers) {
      const marker = L.circleMarker([receiver.latitude, receiver.longitude], {
        radius: 7,
        color: '#222',
        weight: 1,
        fillColor: receiver.colour,
        fillOpacity: 0.95,
        className: `receiver receiver-${receiver.id} state-${receiver.state}`,
      });
      marker.bindTooltip(`${receiver.name} — ${receiver.label ?? receiver.state}`);
      marker.on('click', () => clicks.current?.(receiver.id));
      marker.addTo(layer);
    }
    fit();
  }, [receivers]);

  /** Fits the view to what is drawn, once (later updates keep the user's pan and zoom). */
  function fit() {
    if (fitted.current || !map.current) return;
    const bounds = L.latLngBounds([]);
    const areasBounds = areaLayer.current?.getBounds();
    if (areasBounds?.isValid()) bounds.extend(areasBounds);
    for (const r of drawn.current) bounds.extend([r.latitude, r.longitude]);
    if (!bounds.isValid()) return;
    map.current.fitBounds(bounds.pad(0.1), { maxZoom: 16 });
    fitted.current = true;
  }

  return (
    <figure className={`area-map ${className ?? ''}`}>
      <section ref={element} className="area-map-canvas" aria-label={t('mapLabel')} />
      {!MAP_TILE_URL && <figcaption>{t('noTiles')}</figcaption>}
    </figure>
  );
}
