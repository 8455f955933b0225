// Approximate area outlines for the demo and load provinces, which have no surveyed ones:
// the convex hull of the receivers below an area, buffered. Real outlines (GeoJSON Polygon
// or MultiPolygon, [lon, lat]) can be stored in Area.boundary instead; the seeds only fill
// an empty boundary, so a stored outline is never overwritten.
import buffer from '@turf/buffer';
import convex from '@turf/convex';
import { featureCollection, lineString, point } from '@turf/helpers';
import type { MultiPolygon, Polygon } from 'geojson';
import type { Database } from '../database/client.js';
import type { Prisma } from '../generated/prisma/client.js';

export type Outline = Polygon | MultiPolygon;
/** [longitude, latitude], GeoJSON's order. */
export type LonLat = [number, number];

/** Buffer around a village's receivers, and around everything below a commune, district or province. */
export const VILLAGE_BUFFER_M = 300;
export const WIDER_BUFFER_M = 600;

const round = (n: number) => Math.round(n * 1e6) / 1e6; // ~0.1 m: small answers, no false precision

const roundRing = (ring: number[][]) => ring.map((p) => p.map(round));

function rounded(geometry: Outline): Outline {
  return geometry.type === 'Polygon'
    ? { type: 'Polygon', coordinates: geometry.coordinates.map(roundRing) }
    : { type: 'MultiPolygon', coordinates: geometry.coordinates.map((p) => p.map(roundRing)) };
}

/**
 * The convex hull of the points buffered by `metres`. One point gives a circle; points on
 * one line (no hull) give the buffered segment between them. Null for no points.
 */
export function approximateOutline(points: LonLat[], metres: number): Outline | null {
  const distinct = [...new Map(points.map((p) => [`${p[0]},${p[1]}`, p])).values()];
  if (distinct.length === 0) return null;
  const options = { units: 'meters' as const, steps: 8 };
  let shape: GeoJSON.Feature | undefined;
  if (distinct.length === 1) shape = point(distinct[0] as LonLat);
  else {
    const hull = distinct.length >= 3 ? convex(featureCollection(distinct.map((p) => point(p)))) : null;
    // Collinear points: sorted, the line runs from one end of the segment to the other.
    shape = hull ?? lineString([...distinct].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  }
  const buffered = buffer(shape, metres, options);
  return buffered ? rounded(buffered.geometry) : null;
}

/**
 * Gives every area at or below `rootPath` that has no boundary yet an approximate one from
 * its receivers' positions: a village its own receivers buffered by 300 m, a commune,
 * district or province all receivers below it buffered by 600 m. Areas without receivers
 * stay without. Returns how many areas got an outline.
 */
export async function outlineAreasFromReceivers(db: Database, rootPath: string): Promise<number> {
  const areas = await db.area.findMany({
    where: { path: { startsWith: rootPath } },
    select: { id: true, level: true, path: true, boundary: true },
  });
  const receivers = await db.receiver.findMany({
    where: { village: { path: { startsWith: rootPath } } },
    select: { latitude: true, longitude: true, village: { select: { path: true } } },
  });
  const byVillagePath = new Map<string, LonLat[]>();
  for (const r of receivers) {
    const list = byVillagePath.get(r.village.path) ?? [];
    list.push([r.longitude, r.latitude]);
    byVillagePath.set(r.village.path, list);
  }
  const updates: Prisma.PrismaPromise<unknown>[] = [];
  for (const area of areas) {
    if (area.boundary !== null) continue;
    const points = [...byVillagePath].filter(([path]) => path.startsWith(area.path)).flatMap(([, list]) => list);
    const outline = approximateOutline(points, area.level === 'village' ? VILLAGE_BUFFER_M : WIDER_BUFFER_M);
    if (outline)
      updates.push(
        db.area.update({ where: { id: area.id }, data: { boundary: outline as unknown as Prisma.InputJsonValue } }),
      );
  }
  for (let i = 0; i < updates.length; i += 500) await db.$transaction(updates.slice(i, i + 500));
  return updates.length;
}
