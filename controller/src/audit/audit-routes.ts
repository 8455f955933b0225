import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Database } from '../database/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { decodeCursor, PageQuery, page } from '../http/pagination.js';
import { Problem, ProblemSchema } from '../http/problem.js';
import { requireAdmin } from '../users/user-routes.js';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actorKind: Type.String({ description: 'user, token (a user acting through an API token) or system' }),
  actorId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()], { description: "The acting user's username" }),
  action: Type.String(),
  entity: Type.String(),
  entityId: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

interface AuditRow {
  id: bigint;
  at: Date;
  actorKind: string;
  actorId: string | null;
  actor: string | null;
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** SQL: the area path in `column` lies inside one of `paths`. */
const inPaths = (column: string, paths: string[]) =>
  Prisma.sql`(${Prisma.join(
    paths.map((p) => Prisma.sql`starts_with(${Prisma.raw(column)}, ${p})`),
    ' OR ',
  )})`;

/** SQL: the user `alias` has grants, all of them inside `paths` (see canAdminister). */
const administrable = (alias: string, paths: string[]) => Prisma.sql`(
  EXISTS (SELECT 1 FROM "RoleGrant" g WHERE g."userId" = ${Prisma.raw(alias)}.id)
  AND NOT EXISTS (
    SELECT 1 FROM "RoleGrant" g JOIN "Area" ga ON ga.id = g."areaId"
    WHERE g."userId" = ${Prisma.raw(alias)}.id AND NOT ${inPaths('ga.path', paths)}
  )
)`;

/**
 * Which entries an administrator below the province may read. An entry is visible when
 *  - its actor is a user the admin can administer (all of that user's grants inside the
 *    admin's area: the same rule as for changing users), or
 *  - its entity lies inside the admin's area: a user it can administer (user entries),
 *    an API token of such a user, a receiver in one of its villages, a schedule or
 *    content owned by one of its areas, or one of its areas.
 * Entities of other kinds, entities since deleted, and the system's own entries are seen
 * through the actor rule only; a province admin (whose admin grants cover every root
 * area) sees everything. The rule is evaluated against today's grants and areas, so it
 * can only err towards showing a district less, never another district's business.
 */
function scopeCondition(paths: string[]): Prisma.Sql {
  return Prisma.sql`(
    (u.id IS NOT NULL AND ${administrable('u', paths)})
    OR (a.entity = 'user' AND EXISTS (
      SELECT 1 FROM "User" eu WHERE eu.id::text = a."entityId" AND ${administrable('eu', paths)}))
    OR (a.entity = 'api_token' AND EXISTS (
      SELECT 1 FROM "ApiToken" t JOIN "User" tu ON tu.id = t."userId"
      WHERE t.id::text = a."entityId" AND ${administrable('tu', paths)}))
    OR (a.entity = 'receiver' AND EXISTS (
      SELECT 1 FROM "Receiver" r JOIN "Area" rv ON rv.id = r."villageId"
      WHERE r.id = a."entityId" AND ${inPaths('rv.path', paths)}))
    OR (a.entity = 'schedule' AND EXISTS (
      SELECT 1 FROM "Schedule" s JOIN "Area" so ON so.id = s."ownerAreaId"
      WHERE s.id::text = a."entityId" AND ${inPaths('so.path', paths)}))
    OR (a.entity = 'content' AND EXISTS (
      SELECT 1 FROM "Content" c JOIN "Area" co ON co.id = c."ownerAreaId"
      WHERE c.id::text = a."entityId" AND ${inPaths('co.path', paths)}))
    OR (a.entity = 'area' AND EXISTS (
      SELECT 1 FROM "Area" ar
      WHERE (ar.id::text = a."entityId" OR ar.code = a."entityId") AND ${inPaths('ar.path', paths)}))
  )`;
}

/** The audit trail: who changed what, when, before and after; for administrators. */
export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: "Audit entries, newest first, as far as the administrator's area reaches",
        querystring: Type.Object({
          ...PageQuery,
          entity: Type.Optional(Type.String({ maxLength: 50, description: 'e.g. user, schedule, receiver' })),
          entityId: Type.Optional(Type.String({ maxLength: 200 })),
          actor: Type.Optional(Type.String({ maxLength: 100, description: 'Username of the acting user' })),
          from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before this time' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(AuditEntrySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const scope = await requireAdmin(db, request.principal);
      const { entity, entityId, actor, from, to, limit } = request.query;
      const cursor = decodeCursor(request.query.cursor);
      if (cursor !== undefined && !/^\d{1,19}$/.test(cursor))
        throw new Problem(400, 'Bad Request', 'invalid cursor: pass nextCursor from the previous page unchanged');
      const conditions: Prisma.Sql[] = [];
      // Ids grow with every insert, so "newest first" is descending id (a stable order to page by).
      if (cursor !== undefined) conditions.push(Prisma.sql`a.id < ${BigInt(cursor)}`);
      if (entity !== undefined) conditions.push(Prisma.sql`a.entity = ${entity}`);
      if (entityId !== undefined) conditions.push(Prisma.sql`a."entityId" = ${entityId}`);
      if (actor !== undefined) conditions.push(Prisma.sql`u.username = ${actor}`);
      if (from !== undefined) conditions.push(Prisma.sql`a.at >= ${new Date(from)}`);
      if (to !== undefined) conditions.push(Prisma.sql`a.at < ${new Date(to)}`);
      if (!scope.full) conditions.push(scopeCondition(scope.paths));
      const where = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
      const rows = await db.$queryRaw<AuditRow[]>`
        SELECT a.id, a.at, a."actorKind", a."actorId", u.username AS actor,
               a.action, a.entity, a."entityId", a.before, a.after
        FROM "AuditLog" a LEFT JOIN "User" u ON u.id::text = a."actorId"
        ${where}
        ORDER BY a.id DESC
        LIMIT ${limit + 1}`;
      const result = page(
        rows.map((r) => ({ ...r, id: r.id.toString() })),
        limit,
      );
      return {
        items: result.items.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actorKind: r.actorKind,
          actorId: r.actorId,
          actor: r.actor,
          action: r.action,
          entity: r.entity,
          entityId: r.entityId,
          before: r.before ?? null,
          after: r.after ?? null,
        })),
        nextCursor: result.nextCursor,
      };
    },
  );
};
