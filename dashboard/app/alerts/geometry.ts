/** A drawn polygon as the API takes it: a ring of [latitude, longitude] (CAP's order). */
export type Ring = [number, number][];
export interface Circle {
  lat: number;
  lon: number;
  radiusKm: number;
}
export interface Shapes {
  polygons: readonly Ring[];
  circles: readonly Circle[];
}

/**
 * Whether a point is inside a ring (even-odd ray casting on latitude/longitude, as the
 * controller's turf test does on the same straight edges). Used to show which receivers
 * a drawn shape will reach before it is saved; the controller decides in the end.
 */
export function insideRing(lat: number, lon: number, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [yi, xi] = ring[i] as [number, number];
    const [yj, xj] = ring[j] as [number, number];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const EARTH_KM = 6371.0088;
/** Great-circle distance in kilometres (haversine, as turf's distance). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

export function insideShapes(lat: number, lon: number, shapes: Shapes): boolean {
  return (
    shapes.polygons.some((ring) => insideRing(lat, lon, ring)) ||
    shapes.circles.some((c) => distanceKm(lat, lon, c.lat, c.lon) <= c.radiusKm)
  );
}

/** Rounded to about 1 m, so what is sent stays short. */
export const round6 = (value: number) => Math.round(value * 1e6) / 1e6;
