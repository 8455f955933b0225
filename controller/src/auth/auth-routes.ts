import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { Problem, ProblemSchema } from '../http/problem.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { hashToken, newToken } from './tokens.js';

export const SESSION_COOKIE = 'loa_session';

const GrantSchema = Type.Object({
  role: Type.Union([
    Type.Literal('admin'),
    Type.Literal('official'),
    Type.Literal('emergency'),
    Type.Literal('technician'),
  ]),
  areaCode: Type.String(),
});
const MeSchema = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  locale: Type.String(),
  grants: Type.Array(GrantSchema),
});

// A hash to compare against when the user does not exist, so timing does not reveal it.
const dummyHash = hashPassword('no such user');

/** Sign-in with argon2 passwords and session cookies; API tokens for machines. */
export const authRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  sessionTtlMs: number;
  loginRateLimit: number;
}> = async (app, { db, sessionTtlMs, loginRateLimit }) => {
  app.post(
    '/auth/login',
    {
      // Counted per client address and username (after the body is parsed), so one
      // user's typos do not lock out a whole commune office behind one NAT address.
      config: {
        rateLimit: {
          max: loginRateLimit,
          timeWindow: '1 minute',
          hook: 'preHandler',
          keyGenerator: (request) =>
            `${request.ip}|${(request.body as { username?: string } | undefined)?.username ?? ''}`,
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets the session cookie',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 100 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: MeSchema, 401: ProblemSchema, 429: ProblemSchema },
      },
    },
    async (request, reply) => {
      const user = await db.user.findUnique({
        where: { username: request.body.username },
        include: { grants: { include: { area: true } } },
      });
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), request.body.password);
      if (!user || !ok || !user.active) throw new Problem(401, 'Unauthorized', 'wrong username or password');
      const { token, hash } = newToken('ses');
      await db.session.create({
        data: { tokenHash: hash, userId: user.id, expiresAt: new Date(Date.now() + sessionTtlMs) },
      });
      reply.setCookie(SESSION_COOKIE, token, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: 'auto',
        maxAge: Math.floor(sessionTtlMs / 1000),
      });
      return {
        username: user.username,
        displayName: user.displayName,
        locale: user.locale,
        grants: user.grants.map((g) => ({ role: g.role, areaCode: g.area.code })),
      };
    },
  );

  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'Sign out (ends the session)' } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await db.session.deleteMany({ where: { tokenHash: hashToken(token) } });
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send();
    },
  );

  app.get(
    '/auth/me',
    { schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: MeSchema, 401: ProblemSchema } } },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const user = await db.user.findUniqueOrThrow({ where: { id: principal.userId } });
      return {
        username: user.username,
        displayName: user.displayName,
        locale: user.locale,
        grants: principal.grants.map((g) => ({ role: g.role, areaCode: g.areaCode })),
      };
    },
  );
};
