import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { controllerAcl, receiverAcl, topicMatches } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import type { Database } from '../database/client.js';
import { areaChain } from './broker-config.js';
import { verifyMosquittoPassword } from './mosquitto-password.js';

const Result = Type.Object({
  result: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('ignore')]),
});

/**
 * EMQX's HTTP authentication and authorisation hooks, answering from the same accounts
 * and protocols ACL patterns as the Mosquitto files. EMQX calls them with a shared
 * secret in the `x-hook-token` header (configured in EMQX's HTTP authn/authz headers); they are served only when one is set.
 */
export const emqxHooks: FastifyPluginAsyncTypebox<{
  db: Database;
  hookToken: string;
  controller: { username: string; passwordHash: string };
}> = async (app, { db, hookToken, controller }) => {
  const expected = Buffer.from(hookToken);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers['x-hook-token'];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.status(401).send({ result: 'deny' });
    }
  });

  app.post(
    '/broker/emqx/authenticate',
    {
      schema: {
        tags: ['broker'],
        summary: 'EMQX HTTP authentication hook',
        body: Type.Object({
          username: Type.String({ maxLength: 128 }),
          password: Type.String({ maxLength: 256 }),
          clientid: Type.Optional(Type.String()),
        }),
        response: { 200: Result },
      },
    },
    async (request) => {
      const { username, password, clientid } = request.body;
      if (username === controller.username)
        return {
          result: verifyMosquittoPassword(controller.passwordHash, password) ? ('allow' as const) : ('deny' as const),
        };
      // A receiver must connect with its id as client id, so its session is its own.
      if (clientid !== undefined && clientid !== username) return { result: 'deny' as const };
      const receiver = await db.receiver.findUnique({
        where: { id: username },
        select: { enabled: true, mqttPasswordHash: true },
      });
      const ok =
        receiver?.enabled && receiver.mqttPasswordHash && verifyMosquittoPassword(receiver.mqttPasswordHash, password);
      return { result: ok ? ('allow' as const) : ('deny' as const) };
    },
  );

  app.post(
    '/broker/emqx/authorize',
    {
      schema: {
        tags: ['broker'],
        summary: 'EMQX HTTP authorisation hook',
        body: Type.Object({
          username: Type.String({ maxLength: 128 }),
          topic: Type.String({ maxLength: 512 }),
          action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe')]),
        }),
        response: { 200: Result },
      },
    },
    async (request) => {
      const { username, topic, action } = request.body;
      let rules = username === controller.username ? controllerAcl() : null;
      if (!rules) {
        const receiver = await db.receiver.findUnique({
          where: { id: username },
          select: { enabled: true, village: { select: { path: true } } },
        });
        if (!receiver?.enabled) return { result: 'deny' as const };
        rules = receiverAcl(username, await areaChain(db, receiver.village.path));
      }
      // A subscription must be one the rules grant as written (no widening wildcards).
      const allowed = rules.some(
        (r) =>
          r.access === action &&
          (action === 'subscribe'
            ? r.topic === topic || (!/[+#]/.test(topic) && topicMatches(r.topic, topic))
            : topicMatches(r.topic, topic)),
      );
      return { result: allowed ? ('allow' as const) : ('deny' as const) };
    },
  );
};
