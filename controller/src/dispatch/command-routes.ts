import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type CommandSigner, type CommandTarget, PrioritySchema } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import type { MqttClient } from 'mqtt';
import { requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Role } from '../generated/prisma/client.js';
import { Problem, ProblemSchema } from '../http/problem.js';
import { resolveTargets } from '../scheduling/targets.js';
import { publishCommand } from './command-publisher.js';

/** Immediate commands live briefly: if a receiver cannot get one within a minute, it is moot. */
const IMMEDIATE_TTL_MS = 60_000;

/**
 * Immediate commands, sent at once on each target's topic (one publish per area).
 * `stop` halts what is playing: officials may stop up to priority items, emergency
 * staff anything.
 */
export const commandRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  signer: CommandSigner;
  mqtt: MqttClient;
}> = async (app, { db, signer, mqtt }) => {
  app.post(
    '/commands/stop',
    {
      schema: {
        tags: ['commands'],
        summary: 'Stop playback now on areas or receivers',
        body: Type.Object(
          {
            targets: Type.Object(
              {
                areas: Type.Array(Type.String(), { default: [], maxItems: 100 }),
                receivers: Type.Array(Type.String(), { default: [], maxItems: 1000 }),
              },
              { additionalProperties: false },
            ),
            itemId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' })),
            upToPriority: Type.Optional(PrioritySchema),
            reason: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ commands: Type.Array(Type.Object({ id: Type.String(), topicTarget: Type.String() })) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { targets: wanted, itemId, upToPriority, reason } = request.body;
      if (wanted.areas.length + wanted.receivers.length === 0)
        throw new Problem(400, 'Bad Request', 'give at least one target area or receiver');
      const ceiling = upToPriority ?? (itemId ? undefined : 'emergency');
      const roles: readonly Role[] =
        ceiling === 'emergency' || ceiling === 'live' ? ['emergency'] : ['emergency', 'official', 'technician'];
      const targets = await resolveTargets(db, wanted);
      for (const a of targets.areas) requireScope(principal, roles, a);
      for (const r of targets.receivers) requireScope(principal, roles, r.village);
      const commandTargets: CommandTarget[] = [
        ...targets.areas.map((a) => ({ type: 'area' as const, level: a.level, areaCode: a.code })),
        ...targets.receivers.map((r) => ({ type: 'receiver' as const, receiverId: r.id })),
      ];
      const body = {
        ...(itemId ? { itemId } : {}),
        ...(ceiling ? { upToPriority: ceiling } : {}),
        ...(reason ? { reason } : {}),
      };
      const sent: Array<{ id: string; topicTarget: string }> = [];
      for (const target of commandTargets) {
        const envelope = await signer.sign({ kind: 'stop', target, body, ttlMs: IMMEDIATE_TTL_MS });
        await publishCommand(mqtt, envelope);
        const key = target.type === 'area' ? `${target.level}:${target.areaCode}` : `receiver:${target.receiverId}`;
        await db.dispatchedCommand.create({
          data: {
            id: envelope.id,
            kind: 'stop',
            targetKey: key,
            occurrenceIds: [],
            issuedAt: new Date(envelope.issuedAt),
            expiresAt: new Date(envelope.expiresAt),
          },
        });
        await recordAudit(db, {
          actor: principal,
          action: 'stop',
          entity: 'command',
          entityId: envelope.id,
          after: { target, body },
        });
        sent.push({ id: envelope.id, topicTarget: key });
      }
      return reply.status(202).send({ commands: sent });
    },
  );
};
