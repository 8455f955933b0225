import type { CapCircle, CapPoint } from './cap-model.js';

/** xs:decimal: no exponent, no NaN or Infinity, which Number() would let through. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function parseDecimal(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
}

/** Writes a number as xs:decimal; tiny or huge ones would otherwise come out as 1e-7. */
export function formatDecimal(n: number): string {
  if (Object.is(n, -0)) return '-0';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toLocaleString('en-US', { useGrouping: false, maximumSignificantDigits: 17 });
}

function parsePoint(token: string): CapPoint | undefined {
  const [lat, lon, extra] = token.split(',');
  if (lat === undefined || lon === undefined || extra !== undefined) return undefined;
  const a = parseDecimal(lat);
  const b = parseDecimal(lon);
  return a === undefined || b === undefined ? undefined : [a, b];
}

/** "lat,lon lat,lon ..." → points, or why not. Ranges and ring rules are checked later. */
export function parsePolygon(text: string): CapPoint[] | string {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const points: CapPoint[] = [];
  for (const token of tokens) {
    const point = parsePoint(token);
    if (!point) return `'${token}' is not a "lat,lon" coordinate pair`;
    points.push(point);
  }
  return points;
}

/** "lat,lon radiusKm" → circle, or why not. */
export function parseCircle(text: string): CapCircle | string {
  const [centre, radius, extra] = text.trim().split(/\s+/);
  const point = centre === undefined ? undefined : parsePoint(centre);
  const radiusKm = radius === undefined ? undefined : parseDecimal(radius);
  if (!point || radiusKm === undefined || extra !== undefined)
    return `'${text.trim()}' is not a circle "lat,lon radius" (radius in km)`;
  return { lat: point[0], lon: point[1], radiusKm };
}

export function formatPolygon(points: readonly CapPoint[]): string {
  return points.map(([lat, lon]) => `${formatDecimal(lat)},${formatDecimal(lon)}`).join(' ');
}

export function formatCircle(circle: CapCircle): string {
  return `${formatDecimal(circle.lat)},${formatDecimal(circle.lon)} ${formatDecimal(circle.radiusKm)}`;
}
