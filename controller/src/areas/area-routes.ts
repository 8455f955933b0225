import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type AREA_LEVELS, AreaLevelSchema, LanguageCodeSchema } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import { listingPaths } from '../access/listing-scope.js';
import { ALL_ROLES, requirePrincipal, requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { notFound, ProblemSchema } from '../http/problem.js';

/** A GeoJSON position: [longitude, latitude] (an altitude may follow). */
const Position = Type.Array(Type.Number(), { minItems: 2, maxItems: 3 });
const Ring = Type.Array(Position, { minItems: 4 });
export const BoundarySchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Ring) }),
    Type.Object({ type: Type.Literal('MultiPolygon'), coordinates: Type.Array(Type.Array(Ring)) }),
    Type.Null(),
  ],
  {
    description:
      "The area's outline as a GeoJSON Polygon or MultiPolygon geometry ([lon, lat] coordinates); null when none is stored. The demo province's outlines are approximations (its receivers' convex hull, buffered).",
  },
);
type Boundary = Static<typeof BoundarySchema>;

const areaFields = {
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  level: AreaLevelSchema,
  name: Type.String(),
  parentCode: Type.Union([Type.String(), Type.Null()]),
  languages: Type.Array(LanguageCodeSchema, { description: 'Airing order' }),
};
const AreaSchema = Type.Object({ ...areaFields, boundary: BoundarySchema });
const ListedAreaSchema = Type.Object({
  ...areaFields,
  boundary: Type.Optional(BoundarySchema),
});

type AreaRow = {
  id: string;
  code: string;
  level: string;
  name: string;
  languages: string[];
  parent: { code: string } | null;
  boundary?: unknown;
};

/**
 * The stored outline as the API answers it: a Polygon or MultiPolygon geometry (a stored
 * Feature gives its geometry); anything else, or nothing, is null.
 */
export function boundaryOf(value: unknown): Boundary {
  const geometry =
    (value as { type?: unknown; geometry?: unknown } | null)?.type === 'Feature'
      ? (value as { geometry: unknown }).geometry
      : value;
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  if (!g || !Array.isArray(g.coordinates)) return null;
  return g.type === 'Polygon' || g.type === 'MultiPolygon' ? (g as Boundary) : null;
}

const toArea = (a: AreaRow) => ({
  id: a.id,
  code: a.code,
  level: a.level as (typeof AREA_LEVELS)[number],
  name: a.name,
  parentCode: a.parent?.code ?? null,
  languages: a.languages as never,
  boundary: boundaryOf(a.boundary),
});

/** The area tree, as far as the caller's grants reach. */
export const areaRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/areas',
    {
      schema: {
        tags: ['areas'],
        summary: 'Areas the caller may see, top first',
        querystring: Type.Object({
          ...PageQuery,
          within: Type.Optional(Type.String({ description: 'Only this area and those below it (area code)' })),
          level: Type.Optional(AreaLevelSchema),
          boundary: Type.Optional(
            Type.Boolean({
              default: true,
              description: 'false: leave the outlines out (a smaller answer); each area then has no boundary field',
            }),
          ),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(ListedAreaSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const paths = await listingPaths(db, principal, request.query.within);
      const withBoundary = request.query.boundary !== false;
      const rows = await db.area.findMany({
        where: {
          OR: paths.map((p) => ({ path: { startsWith: p } })),
          ...(request.query.level ? { level: request.query.level } : {}),
        },
        omit: { boundary: !withBoundary },
        include: { parent: { select: { code: true } } },
        orderBy: [{ path: 'asc' }, { id: 'asc' }],
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      const items = result.items.map((row) => {
        const { boundary, ...area } = toArea(row);
        return withBoundary ? { ...area, boundary } : area;
      });
      return { items, nextCursor: result.nextCursor };
    },
  );

  app.get(
    '/areas/:code',
    {
      schema: {
        tags: ['areas'],
        summary: 'One area',
        params: Type.Object({ code: Type.String() }),
        response: { 200: AreaSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const area = await db.area.findUnique({
        where: { code: request.params.code },
        include: { parent: { select: { code: true } } },
      });
      if (!area) throw notFound(`no area ${request.params.code}`);
      requireScope(request.principal, ALL_ROLES, area);
      return toArea(area);
    },
  );
};
