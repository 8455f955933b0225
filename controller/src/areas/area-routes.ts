import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type AREA_LEVELS, AreaLevelSchema, LanguageCodeSchema } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { listingPaths } from '../access/listing-scope.js';
import { ALL_ROLES, requirePrincipal, requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { notFound, ProblemSchema } from '../http/problem.js';

const AreaSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  level: AreaLevelSchema,
  name: Type.String(),
  parentCode: Type.Union([Type.String(), Type.Null()]),
  languages: Type.Array(LanguageCodeSchema, { description: 'Airing order' }),
});

type AreaRow = {
  id: string;
  code: string;
  level: string;
  name: string;
  languages: string[];
  parent: { code: string } | null;
};
const toArea = (a: AreaRow) => ({
  id: a.id,
  code: a.code,
  level: a.level as (typeof AREA_LEVELS)[number],
  name: a.name,
  parentCode: a.parent?.code ?? null,
  languages: a.languages as never,
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
        }),
        response: {
          200: Type.Object({ items: Type.Array(AreaSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const paths = await listingPaths(db, principal, request.query.within);
      const rows = await db.area.findMany({
        where: {
          OR: paths.map((p) => ({ path: { startsWith: p } })),
          ...(request.query.level ? { level: request.query.level } : {}),
        },
        include: { parent: { select: { code: true } } },
        orderBy: [{ path: 'asc' }, { id: 'asc' }],
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      return { items: result.items.map(toArea), nextCursor: result.nextCursor };
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
