import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LanguageCodeSchema, PrioritySchema } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireScope } from '../access/scope.js';
import type { Role } from '../generated/prisma/client.js';
import { Problem, ProblemSchema } from '../http/problem.js';
import { resolveTargets, type TargetRequest } from '../scheduling/targets.js';
import { type CommandDeps, commandTargetsOf, sendImmediate } from './immediate-commands.js';
import { playNowCommands } from './play-now.js';

const Targets = Type.Object(
  {
    areas: Type.Array(Type.String(), { default: [], maxItems: 100 }),
    receivers: Type.Array(Type.String(), { default: [], maxItems: 1000 }),
  },
  { additionalProperties: false },
);
const Sent = Type.Object({ commands: Type.Array(Type.Object({ id: Type.String(), topicTarget: Type.String() })) });
const Problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

function requireSomeTarget(targets: TargetRequest): void {
  if (targets.areas.length + targets.receivers.length === 0)
    throw new Problem(400, 'Bad Request', 'give at least one target area or receiver');
}

/**
 * Immediate commands, sent at once on each target's topic (one publish per area).
 * `stop` halts what is playing: officials may stop up to priority items, emergency
 * staff anything. `play` airs a content item now; emergency priority needs the
 * emergency role.
 */
export const commandRoutes: FastifyPluginAsyncTypebox<CommandDeps> = async (app, deps) => {
  const { db } = deps;

  app.post(
    '/commands/stop',
    {
      schema: {
        tags: ['commands'],
        summary: 'Stop playback now on areas or receivers',
        body: Type.Object(
          {
            targets: Targets,
            itemId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' })),
            upToPriority: Type.Optional(PrioritySchema),
            reason: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Sent, ...Problems },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { targets: wanted, itemId, upToPriority, reason } = request.body;
      requireSomeTarget(wanted);
      const ceiling = upToPriority ?? (itemId ? undefined : 'emergency');
      const roles: readonly Role[] =
        ceiling === 'emergency' || ceiling === 'live' ? ['emergency'] : ['emergency', 'official', 'technician'];
      const targets = await resolveTargets(db, wanted);
      for (const a of targets.areas) requireScope(principal, roles, a);
      for (const r of targets.receivers) requireScope(principal, roles, r.village);
      const body = {
        ...(itemId ? { itemId } : {}),
        ...(ceiling ? { upToPriority: ceiling } : {}),
        ...(reason ? { reason } : {}),
      };
      const sent = [];
      for (const target of commandTargetsOf(targets))
        sent.push(await sendImmediate(deps, principal, { kind: 'stop', target, body }));
      return reply.status(202).send({ commands: sent });
    },
  );

  app.post(
    '/commands/play',
    {
      schema: {
        tags: ['commands'],
        summary: 'Air a content item now on areas or receivers (each in its languages, in airing order)',
        body: Type.Object(
          {
            contentId: Type.String({ format: 'uuid' }),
            targets: Targets,
            priority: Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')], {
              default: 'priority',
            }),
            startMode: Type.Union([Type.Literal('hard'), Type.Literal('next')], {
              default: 'hard',
              description: 'hard: interrupt lower items now; next: after the current item',
            }),
            volume: Type.Integer({ minimum: 0, maximum: 100, default: 80 }),
            repeat: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
            prelude: Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')], {
              default: 'chime',
            }),
            languages: Type.Array(LanguageCodeSchema, {
              default: [],
              maxItems: 32,
              description: "Empty: each target's languages, in its airing order",
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({
            itemId: Type.String(),
            commands: Type.Array(
              Type.Object({ id: Type.String(), topicTarget: Type.String(), languages: Type.Array(Type.String()) }),
            ),
          }),
          ...Problems,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      requireSomeTarget(input.targets);
      const roles: readonly Role[] = input.priority === 'emergency' ? ['emergency'] : ['official', 'emergency'];
      const targets = await resolveTargets(db, input.targets);
      for (const a of targets.areas) requireScope(principal, roles, a);
      for (const r of targets.receivers) requireScope(principal, roles, r.village);
      const planned = await playNowCommands(db, input, targets);
      const commands = [];
      for (const command of planned.commands) {
        const sent = await sendImmediate(deps, principal, {
          kind: 'play.now',
          target: command.target,
          body: command.body,
        });
        commands.push({ ...sent, languages: command.languages });
      }
      return reply.status(202).send({ itemId: planned.itemId, commands });
    },
  );
};
