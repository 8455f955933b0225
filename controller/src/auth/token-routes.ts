import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { forbidden, notFound, ProblemSchema } from '../http/problem.js';
import { newToken } from './tokens.js';

const DAY_MS = 86_400_000;

const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/**
 * API tokens for machines (scripts, integrations), each acting with its user's grants.
 * A signed-in person creates them for itself; the secret is shown once and only its
 * hash is kept. Tokens stop working when they expire, are revoked, or the user is
 * deactivated.
 */
export const tokenRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.post(
    '/auth/tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API token for yourself (the token is shown once); needs a signed-in session',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, description: 'What the token is for' }),
            expiresInDays: Type.Integer({ minimum: 1, maximum: 365, default: 90 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            token: Type.String({ description: 'Send as Authorization: Bearer; shown only now' }),
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      // A leaked token must not be able to renew itself forever: machines cannot mint machines.
      if (principal.via !== 'session')
        throw forbidden('API tokens cannot create API tokens; sign in with your password to create one');
      const { token, hash } = newToken('tok');
      // The real clock, as principals.ts checks expiry against it.
      const expiresAt = new Date(Date.now() + request.body.expiresInDays * DAY_MS);
      const created = await db.$transaction(async (tx) => {
        const row = await tx.apiToken.create({
          data: { name: request.body.name, tokenHash: hash, userId: principal.userId, expiresAt },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'create_token',
          entity: 'api_token',
          entityId: row.id,
          after: { name: row.name, userId: row.userId, expiresAt: row.expiresAt },
        });
        return row;
      });
      return reply.status(201).send({ id: created.id, name: created.name, token, expiresAt: expiresAt.toISOString() });
    },
  );

  app.get(
    '/auth/tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Your API tokens, newest first (never their secrets)',
        querystring: Type.Object({ ...PageQuery }),
        response: {
          200: Type.Object({ items: Type.Array(TokenSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          400: ProblemSchema,
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const rows = await db.apiToken.findMany({
        where: { userId: principal.userId },
        select: { id: true, name: true, createdAt: true, expiresAt: true, lastUsedAt: true },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      return {
        items: result.items.map((t) => ({
          id: t.id,
          name: t.name,
          createdAt: t.createdAt.toISOString(),
          expiresAt: t.expiresAt?.toISOString() ?? null,
          lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        })),
        nextCursor: result.nextCursor,
      };
    },
  );

  app.delete(
    '/auth/tokens/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of your API tokens',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      await db.$transaction(async (tx) => {
        // Someone else's token answers exactly like a missing one.
        const token = await tx.apiToken.findFirst({ where: { id: request.params.id, userId: principal.userId } });
        const { count } = await tx.apiToken.deleteMany({ where: { id: request.params.id, userId: principal.userId } });
        if (!token || count === 0) throw notFound(`you have no API token ${request.params.id}`);
        await recordAudit(tx, {
          actor: principal,
          action: 'revoke_token',
          entity: 'api_token',
          entityId: token.id,
          before: { name: token.name, userId: token.userId, expiresAt: token.expiresAt },
        });
      });
      return reply.status(204).send(null);
    },
  );
};
