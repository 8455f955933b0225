import type L from 'leaflet';

/**
 * Without a tile layer a Leaflet map has no maximum zoom, so fitting it to a single
 * receiver (one point) asks for zoom Infinity and the map breaks. Village level is enough.
 */
export function limitZoom(map: L.Map): void {
  map.setMaxZoom(17);
}
