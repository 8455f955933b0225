import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Principal } from '../access/principal.js';
import { requirePrincipal, requireScope, visiblePaths } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import { hashPassword } from '../auth/passwords.js';
import type { Database } from '../database/client.js';
import { Prisma, type Role } from '../generated/prisma/client.js';
import { etagOf, notModified, requireCurrent } from '../http/etag.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { forbidden, notFound, Problem, ProblemSchema } from '../http/problem.js';

type Tx = Prisma.TransactionClient;

const RoleSchema = Type.Union([
  Type.Literal('admin'),
  Type.Literal('official'),
  Type.Literal('emergency'),
  Type.Literal('technician'),
]);
const GrantInput = Type.Object(
  { role: RoleSchema, areaCode: Type.String({ minLength: 1, maxLength: 50 }) },
  { additionalProperties: false },
);
const GrantSchema = Type.Object({ id: Type.String(), role: RoleSchema, areaCode: Type.String() });
const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  locale: Type.String(),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  grants: Type.Array(GrantSchema),
});
const Locale = Type.Union([Type.Literal('vi'), Type.Literal('en')]);
/** NIST SP 800-63B: length is what matters; 12 characters at least, no composition rules. */
const Password = Type.String({ minLength: 12, maxLength: 200, description: 'At least 12 characters' });
const UserId = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Everything a user representation needs; never the password hash. */
const userSelect = {
  id: true,
  username: true,
  displayName: true,
  locale: true,
  active: true,
  createdAt: true,
  updatedAt: true,
  grants: {
    select: { id: true, role: true, area: { select: { id: true, code: true, path: true, parentId: true } } },
    orderBy: [{ role: 'asc' }, { area: { code: 'asc' } }],
  },
} satisfies Prisma.UserSelect;
type UserRow = Prisma.UserGetPayload<{ select: typeof userSelect }>;

const toUser = (u: UserRow) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  locale: u.locale,
  active: u.active,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
  grants: u.grants.map((g) => ({ id: g.id, role: g.role, areaCode: g.area.code })),
});

/**
 * What an administrator may administer: the areas of its `admin` grants. `full` when
 * those cover every root area (the province), i.e. the whole system: only then are
 * users without any grant, and audit entries of the system itself, within reach.
 */
export interface AdminScope {
  principal: Principal;
  paths: string[];
  full: boolean;
}

export async function requireAdmin(
  db: Pick<Database, 'area'>,
  principal: Principal | null | undefined,
): Promise<AdminScope> {
  const p = requirePrincipal(principal);
  const paths = visiblePaths(p, ['admin']);
  if (paths.length === 0) throw forbidden('administrators only: ask an administrator for an admin grant');
  const roots = await db.area.findMany({ where: { parentId: null }, select: { path: true } });
  return { principal: p, paths, full: roots.every((r) => paths.some((q) => r.path.startsWith(q))) };
}

const within = (scope: AdminScope, path: string) => scope.paths.some((p) => path.startsWith(p));

/** A user the admin may see: one with at least one grant inside its area. */
function canSee(scope: AdminScope, user: { grants: Array<{ area: { path: string } }> }): boolean {
  return scope.full || user.grants.some((g) => within(scope, g.area.path));
}

/**
 * A user the admin may change (profile, password, deactivation): every one of its grants
 * lies inside the admin's area, so a district admin cannot take over a user who also
 * acts for the province or another district. Users without grants: full admins only.
 */
export function canAdminister(scope: AdminScope, user: { grants: Array<{ area: { path: string } }> }): boolean {
  return scope.full || (user.grants.length > 0 && user.grants.every((g) => within(scope, g.area.path)));
}

async function findUser(db: Database | Tx, id: string): Promise<UserRow> {
  const user = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!user) throw notFound(`no user ${id}`);
  return user;
}

function requireVisible(scope: AdminScope, user: UserRow): void {
  if (!canSee(scope, user))
    throw forbidden(`user ${user.username} has no grant in your area; ask an administrator covering its area`);
}

const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

/**
 * Keeps someone able to administer the system: each root area (the province) must keep
 * at least one active user with an admin grant on it. Call inside the transaction that
 * removes such a grant or deactivates such a user. One advisory lock serialises these
 * (rare) changes, so two admins removing each other at once cannot both succeed.
 */
async function ensureRootAdminRemains(
  tx: Tx,
  area: { id: string; code: string },
  removing: { grantId: string } | { userId: string },
): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(74726101)`;
  const others = await tx.roleGrant.count({
    where: {
      role: 'admin',
      areaId: area.id,
      user: { active: true },
      ...('grantId' in removing ? { id: { not: removing.grantId } } : { userId: { not: removing.userId } }),
    },
  });
  if (others === 0)
    throw new Problem(
      409,
      'Conflict',
      `this is the last active admin grant on ${area.code}; grant admin on ${area.code} to another user first so nobody is locked out`,
    );
}

/** User administration: admins manage users and grants within their own area. */
export const userRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: "Users with at least one grant inside the administrator's area",
        querystring: Type.Object({
          ...PageQuery,
          area: Type.Optional(
            Type.String({ description: 'Only users with a grant in this area (code), at any depth' }),
          ),
          role: Type.Optional(RoleSchema),
        }),
        response: {
          200: Type.Object({ items: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const scope = await requireAdmin(db, request.principal);
      let paths = scope.paths;
      if (request.query.area !== undefined) {
        const area = await db.area.findUnique({ where: { code: request.query.area } });
        if (!area) throw notFound(`no area ${request.query.area}`);
        requireScope(scope.principal, ['admin'], area);
        paths = [area.path];
      }
      const narrowed = request.query.area !== undefined || request.query.role !== undefined;
      const rows = await db.user.findMany({
        where:
          scope.full && !narrowed
            ? {}
            : {
                grants: {
                  some: {
                    area: { OR: paths.map((p) => ({ path: { startsWith: p } })) },
                    ...(request.query.role ? { role: request.query.role } : {}),
                  },
                },
              },
        select: userSelect,
        orderBy: { username: 'asc' },
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      return { items: result.items.map(toUser), nextCursor: result.nextCursor };
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'One user with its grants (ETag; If-None-Match answers 304)',
        params: UserId,
        response: {
          200: UserSchema,
          304: Type.Null(),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const scope = await requireAdmin(db, request.principal);
      const user = await findUser(db, request.params.id);
      requireVisible(scope, user);
      const body = toUser(user);
      if (notModified(request, reply, etagOf(body))) return reply.status(304).send(null);
      return body;
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: "Create a user with grants inside the administrator's area",
        body: Type.Object(
          {
            username: Type.String({
              pattern: '^[a-z0-9][a-z0-9._-]{2,63}$',
              description: 'Lower-case letters, digits, dot, dash, underscore; 3 to 64 characters',
            }),
            displayName: Type.String({ minLength: 1, maxLength: 200 }),
            password: Password,
            locale: Type.Optional(Locale),
            grants: Type.Array(GrantInput, { minItems: 1, maxItems: 50 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: UserSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const scope = await requireAdmin(db, request.principal);
      const input = request.body;
      const wanted = [...new Map(input.grants.map((g) => [`${g.role}|${g.areaCode}`, g])).values()];
      const codes = [...new Set(wanted.map((g) => g.areaCode))];
      const areas = await db.area.findMany({ where: { code: { in: codes } } });
      const missing = codes.filter((c) => !areas.some((a) => a.code === c));
      if (missing.length) throw notFound(`no area ${missing.join(', ')}`);
      for (const area of areas) requireScope(scope.principal, ['admin'], area);
      const taken = await db.user.findUnique({ where: { username: input.username }, select: { id: true } });
      if (taken) throw new Problem(409, 'Conflict', `username ${input.username} is taken; choose another`);
      const passwordHash = await hashPassword(input.password);
      const areaIds = new Map(areas.map((a) => [a.code, a.id]));
      let created: UserRow;
      try {
        created = await db.$transaction(async (tx) => {
          const user = await tx.user.create({
            data: {
              username: input.username,
              displayName: input.displayName,
              passwordHash,
              locale: input.locale ?? 'vi',
              grants: {
                create: wanted.map((g) => ({ role: g.role as Role, areaId: areaIds.get(g.areaCode) as string })),
              },
            },
            select: userSelect,
          });
          const { id: _id, createdAt: _c, updatedAt: _u, ...after } = toUser(user);
          await recordAudit(tx, {
            actor: scope.principal,
            action: 'create_user',
            entity: 'user',
            entityId: user.id,
            after,
          });
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new Problem(409, 'Conflict', `username ${input.username} is taken; choose another`);
        throw error;
      }
      const body = toUser(created);
      reply.header('etag', etagOf(body)).header('location', `/users/${created.id}`);
      return reply.status(201).send(body);
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary:
          'Change a user (send If-Match with its ETag); deactivating it or setting its password ends its sessions',
        params: UserId,
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            locale: Type.Optional(Locale),
            active: Type.Optional(Type.Boolean()),
            password: Type.Optional(Password),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: UserSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          412: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const scope = await requireAdmin(db, request.principal);
      const input = request.body;
      // Unknown properties are stripped by the validator, so check that something is left.
      const fields = ['displayName', 'locale', 'active'] as const;
      const changed = fields.filter((f) => input[f] !== undefined);
      if (changed.length === 0 && input.password === undefined)
        throw new Problem(400, 'Bad Request', 'nothing to change: give displayName, locale, active or password');
      const deactivating = input.active === false;
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      const updated = await db.$transaction(async (tx) => {
        // Same lock order as grant removal (advisory lock, then rows), so the two cannot deadlock.
        if (deactivating) await tx.$executeRaw`SELECT pg_advisory_xact_lock(74726101)`;
        await tx.$executeRaw`SELECT 1 FROM "User" WHERE id = ${request.params.id}::uuid FOR NO KEY UPDATE`;
        const before = await findUser(tx, request.params.id);
        requireVisible(scope, before);
        requireCurrent(request, etagOf(toUser(before)));
        if (!canAdminister(scope, before))
          throw forbidden(
            `user ${before.username} also has grants outside your area; an administrator covering all of them must change it`,
          );
        if (deactivating && before.active) {
          for (const g of before.grants)
            if (g.role === 'admin' && g.area.parentId === null)
              await ensureRootAdminRemains(tx, g.area, { userId: before.id });
        }
        const user = await tx.user.update({
          where: { id: before.id },
          data: {
            ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
            ...(input.locale === undefined ? {} : { locale: input.locale }),
            ...(input.active === undefined ? {} : { active: input.active }),
            ...(passwordHash === undefined ? {} : { passwordHash }),
          },
          select: userSelect,
        });
        // A new password or a deactivation must not leave someone signed in with the old standing.
        const ended =
          deactivating || passwordHash !== undefined
            ? (await tx.session.deleteMany({ where: { userId: user.id } })).count
            : 0;
        await recordAudit(tx, {
          actor: scope.principal,
          action: 'update_user',
          entity: 'user',
          entityId: user.id,
          before: Object.fromEntries(changed.map((f) => [f, before[f]])),
          after: {
            ...Object.fromEntries(changed.map((f) => [f, user[f]])),
            ...(passwordHash === undefined ? {} : { passwordChanged: true }),
            ...(ended > 0 ? { sessionsEnded: ended } : {}),
          },
        });
        return user;
      });
      const body = toUser(updated);
      reply.header('etag', etagOf(body));
      return body;
    },
  );

  app.post(
    '/users/:id/grants',
    {
      schema: {
        tags: ['users'],
        summary: "Grant a role on an area inside the administrator's area",
        params: UserId,
        body: GrantInput,
        response: {
          201: GrantSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const scope = await requireAdmin(db, request.principal);
      const user = await findUser(db, request.params.id);
      requireVisible(scope, user);
      const area = await db.area.findUnique({ where: { code: request.body.areaCode } });
      if (!area) throw notFound(`no area ${request.body.areaCode}`);
      requireScope(scope.principal, ['admin'], area);
      const grant = { role: request.body.role, areaCode: area.code };
      try {
        const created = await db.$transaction(async (tx) => {
          const g = await tx.roleGrant.create({ data: { userId: user.id, role: grant.role, areaId: area.id } });
          await recordAudit(tx, {
            actor: scope.principal,
            action: 'grant',
            entity: 'user',
            entityId: user.id,
            after: { grantId: g.id, ...grant },
          });
          return g;
        });
        return reply.status(201).send({ id: created.id, ...grant });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new Problem(409, 'Conflict', `${user.username} already has ${grant.role} on ${grant.areaCode}`);
        throw error;
      }
    },
  );

  app.delete(
    '/users/:id/grants/:grantId',
    {
      schema: {
        tags: ['users'],
        summary: 'Revoke a grant (refused for the last active admin grant on the province)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }), grantId: Type.String({ format: 'uuid' }) }),
        response: {
          204: Type.Null(),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const scope = await requireAdmin(db, request.principal);
      const grant = await db.roleGrant.findFirst({
        where: { id: request.params.grantId, userId: request.params.id },
        include: { area: true },
      });
      if (!grant) throw notFound(`no grant ${request.params.grantId} of user ${request.params.id}`);
      requireScope(scope.principal, ['admin'], grant.area);
      await db.$transaction(async (tx) => {
        if (grant.role === 'admin' && grant.area.parentId === null)
          await ensureRootAdminRemains(tx, grant.area, { grantId: grant.id });
        const { count } = await tx.roleGrant.deleteMany({ where: { id: grant.id } });
        if (count === 0) throw notFound(`no grant ${grant.id}`);
        await recordAudit(tx, {
          actor: scope.principal,
          action: 'revoke',
          entity: 'user',
          entityId: grant.userId,
          before: { grantId: grant.id, role: grant.role, areaCode: grant.area.code },
        });
      });
      return reply.status(204).send(null);
    },
  );
};
