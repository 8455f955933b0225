import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import distance from '@turf/distance';

/** A drawn polygon as the alert API takes it: a ring of [latitude, longitude] (CAP's order), closed or not. */
export type LatLonRing = Array<[number, number]>;
export interface DrawnCircle {
  lat: number;
  lon: number;
  radiusKm: number;
}
export interface DrawnShapes {
  polygons: LatLonRing[];
  circles: DrawnCircle[];
}
export interface Position {
  lat: number;
  lon: number;
}

/**
 * Whether a surveyed position lies inside any drawn shape, worked out here from the
 * geometry (not asked of the controller): point in polygon for the rings (GeoJSON wants
 * [lon, lat], closed), great-circle distance for the circles; a point on an edge counts
 * as inside, as the controller's alert API documents.
 */
export function insideDrawnShapes(at: Position, shapes: DrawnShapes): boolean {
  const here: [number, number] = [at.lon, at.lat];
  const inPolygon = shapes.polygons.some((ring) => {
    const coordinates = ring.map(([lat, lon]) => [lon, lat]);
    const [first, last] = [coordinates[0], coordinates.at(-1)];
    if (first && last && (first[0] !== last[0] || first[1] !== last[1])) coordinates.push([...first]);
    return booleanPointInPolygon(here, { type: 'Polygon', coordinates: [coordinates] });
  });
  return inPolygon || shapes.circles.some((c) => distance(here, [c.lon, c.lat], { units: 'kilometers' }) <= c.radiusKm);
}
