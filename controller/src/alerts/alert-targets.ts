import type { CommandTarget } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import distance from '@turf/distance';
import { point, polygon as turfPolygon } from '@turf/helpers';
import type { Principal } from '../access/principal.js';
import { covers, requireScope, visiblePaths } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { AreaLevel } from '../generated/prisma/client.js';
import { notFound } from '../http/problem.js';

const ROLES = ['emergency'] as const;
const LatLon = Type.Tuple([Type.Number({ minimum: -90, maximum: 90 }), Type.Number({ minimum: -180, maximum: 180 })]);

/** A ring of [latitude, longitude] points (CAP's order); closed if the first point is not repeated last. */
export const PolygonSchema = Type.Array(LatLon, { minItems: 3, maxItems: 1000 });
export const CircleSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 500 }),
  },
  { additionalProperties: false },
);
export type Polygon = Static<typeof PolygonSchema>;
export type Circle = Static<typeof CircleSchema>;

export interface AlertTargeting {
  areaCodes: string[];
  polygons: Polygon[];
  circles: Circle[];
}

export interface ResolvedAlertTargets {
  /** The named areas (each in the issuer's emergency scope, else 403). */
  areas: Array<{ id: string; code: string; path: string; level: AreaLevel }>;
  /** Every enabled receiver reached, and whether it was online when resolved. */
  receivers: Array<{ id: string; online: boolean }>;
  /** What to publish to: the named areas, each village wholly inside a drawn shape, and single receivers. */
  commandTargets: CommandTarget[];
  /** Receivers inside a drawn shape but outside the issuer's scope: clipped away, counted. */
  clipped: number;
  /** Levels for the approval rule: the named areas', and the smallest area holding every drawn-target receiver. */
  levels: AreaLevel[];
}

const LEVEL_BY_DEPTH: AreaLevel[] = ['province', 'district', 'commune', 'village'];

function ring(points: Polygon): number[][] {
  const ring = points.map(([lat, lon]) => [lon, lat]);
  const [first, last] = [ring[0], ring.at(-1)];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) ring.push([...first]);
  return ring;
}

/** Whether a point is inside any drawn shape (the edge counts as inside). */
export function insideShapes(lat: number, lon: number, shapes: Pick<AlertTargeting, 'polygons' | 'circles'>): boolean {
  const here = point([lon, lat]);
  return (
    shapes.polygons.some((p) => booleanPointInPolygon(here, turfPolygon([ring(p)]))) ||
    shapes.circles.some((c) => distance(here, point([c.lon, c.lat]), { units: 'kilometers' }) <= c.radiusKm)
  );
}

/** The level of the deepest area whose path starts every one of these village paths ("/10/082/..."). */
function commonLevel(paths: string[]): AreaLevel | undefined {
  const split = paths.map((p) => p.split('/').filter(Boolean));
  const first = split[0];
  if (!first) return undefined;
  let depth = 0;
  while (depth < first.length && split.every((s) => s[depth] === first[depth])) depth++;
  return LEVEL_BY_DEPTH[Math.max(0, Math.min(depth, LEVEL_BY_DEPTH.length) - 1)];
}

/**
 * Resolves an alert's targets to receivers: named areas (which must be in the issuer's
 * emergency scope) and drawn polygons and circles (receivers by point-in-polygon on their
 * surveyed position, clipped to the scope). A village wholly inside a shape gets one
 * publish on its area topic; the rest of the receivers inside get one each, so the
 * alert reaches exactly the receivers inside and no others.
 */
export async function resolveAlertTargets(
  db: Database,
  principal: Principal,
  targeting: AlertTargeting,
): Promise<ResolvedAlertTargets> {
  const areas = await db.area.findMany({
    where: { code: { in: targeting.areaCodes } },
    select: { id: true, code: true, path: true, level: true },
  });
  const missing = targeting.areaCodes.filter((c) => !areas.some((a) => a.code === c));
  if (missing.length > 0) throw notFound(`no area ${missing.join(', ')}`);
  for (const area of areas) requireScope(principal, ROLES, area);

  const reached = new Map<string, boolean>();
  if (areas.length > 0) {
    const inAreas = await db.receiver.findMany({
      where: { enabled: true, village: { OR: areas.map((a) => ({ path: { startsWith: a.path } })) } },
      select: { id: true, online: true },
    });
    for (const r of inAreas) reached.set(r.id, r.online);
  }
  const commandTargets: CommandTarget[] = areas.map((a) => ({ type: 'area', level: a.level, areaCode: a.code }));
  const levels: AreaLevel[] = areas.map((a) => a.level);
  let clipped = 0;

  if (targeting.polygons.length + targeting.circles.length > 0) {
    const scope = visiblePaths(principal, ROLES);
    // Every receiver of the scope is tested (thousands at most; exact, and no spatial index to keep).
    const candidates = scope.length
      ? await db.receiver.findMany({
          where: { village: { OR: scope.map((p) => ({ path: { startsWith: p } })) } },
          select: {
            id: true,
            enabled: true,
            online: true,
            latitude: true,
            longitude: true,
            village: { select: { id: true, code: true, path: true } },
          },
        })
      : [];
    clipped = await countOutsideScope(db, principal, targeting);
    const byVillage = new Map<string, { code: string; path: string; all: number; inside: typeof candidates }>();
    for (const r of candidates) {
      const v = byVillage.get(r.village.id) ?? { code: r.village.code, path: r.village.path, all: 0, inside: [] };
      v.all++;
      if (insideShapes(r.latitude, r.longitude, targeting)) v.inside.push(r);
      byVillage.set(r.village.id, v);
    }
    const drawnPaths: string[] = [];
    for (const village of byVillage.values()) {
      const fresh = village.inside.filter((r) => r.enabled && !reached.has(r.id));
      if (fresh.length === 0) continue;
      drawnPaths.push(village.path);
      for (const r of fresh) reached.set(r.id, r.online);
      // One publish for a village wholly inside (disabled receivers count: they hear the topic too).
      if (village.inside.length === village.all)
        commandTargets.push({ type: 'area', level: 'village', areaCode: village.code });
      else for (const r of fresh) commandTargets.push({ type: 'receiver', receiverId: r.id });
    }
    const level = commonLevel(drawnPaths);
    if (level) levels.push(level);
  }
  const receivers = [...reached].map(([id, online]) => ({ id, online })).sort((a, b) => a.id.localeCompare(b.id));
  return { areas, receivers, commandTargets, clipped, levels };
}

/** Receivers inside the shapes that the issuer's emergency scope does not cover. */
async function countOutsideScope(db: Database, principal: Principal, shapes: AlertTargeting): Promise<number> {
  const all = await db.receiver.findMany({
    where: { enabled: true },
    select: { latitude: true, longitude: true, village: { select: { path: true } } },
  });
  return all.filter((r) => !covers(principal, ROLES, r.village.path) && insideShapes(r.latitude, r.longitude, shapes))
    .length;
}
