import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Database } from '../database/client.js';

/** Liveness (the process answers) and readiness (its dependencies answer). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Database; redis: Redis }> = async (app, { db, redis }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok' as const,
    }),
  );

  const Check = Type.Union([Type.Literal('ok'), Type.String()]);
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: PostgreSQL and Redis answer (503 otherwise)',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Check, redis: Check }),
          503: Type.Object({ status: Type.Literal('not_ready'), database: Check, redis: Check }),
        },
      },
    },
    async (_request, reply) => {
      const check = async (probe: () => Promise<unknown>) => {
        try {
          await probe();
          return 'ok';
        } catch (error) {
          return `error: ${(error as Error).message}`;
        }
      };
      const [database, cache] = await Promise.all([check(() => db.$queryRaw`SELECT 1`), check(() => redis.ping())]);
      const ready = database === 'ok' && cache === 'ok';
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', database, redis: cache });
    },
  );
};
