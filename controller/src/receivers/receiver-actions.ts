import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CommandBody, CommandKind } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { requireScope } from '../access/scope.js';
import { toneAssets } from '../audio/tone-assets.js';
import { assetRef } from '../dispatch/audio-segments.js';
import { type CommandDeps, sendImmediate } from '../dispatch/immediate-commands.js';
import type { Asset } from '../generated/prisma/client.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';

const Action = Type.Union([
  Type.Object(
    { action: Type.Literal('volume'), volume: Type.Integer({ minimum: 0, maximum: 100 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('test'), mode: Type.Union([Type.Literal('silent'), Type.Literal('audible')]) },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('reload') }, { additionalProperties: false }),
  Type.Object(
    { action: Type.Literal('logs'), maxLines: Type.Integer({ minimum: 1, maximum: 2000 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('config'), telemetryIntervalS: Type.Integer({ minimum: 5, maximum: 3600 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('reboot'), reason: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
]);

/** The signed command each remote action becomes. */
function commandOf(
  body: typeof Action.static,
  tone: Asset | undefined,
): { kind: CommandKind; body: CommandBody<CommandKind> } {
  switch (body.action) {
    case 'volume':
      return { kind: 'device.volume', body: { volume: body.volume } };
    case 'test':
      // An audible test plays the stored chime through the receiver's normal priority rules.
      if (body.mode === 'audible') {
        if (!tone)
          throw new Problem(
            422,
            'Unprocessable Content',
            'an audible test plays the chime asset, which the controller makes when its audio pipeline starts and has not yet; use mode "silent" (amplifier and line check), or run "edge-agent test-tone" on the receiver',
          );
        return { kind: 'device.test', body: { mode: 'audible', toneSha256: tone.sha256, assets: [assetRef(tone)] } };
      }
      return { kind: 'device.test', body: { mode: body.mode } };
    case 'reload':
      return { kind: 'device.reload', body: {} };
    case 'logs':
      return { kind: 'device.logs', body: { maxLines: body.maxLines } };
    case 'config':
      return { kind: 'device.config', body: { telemetryIntervalS: body.telemetryIntervalS } };
    case 'reboot':
      return { kind: 'device.reboot', body: body.reason ? { reason: body.reason } : {} };
  }
}

/**
 * Technicians act on one receiver from afar: volume, silent or audible test, reload of its
 * schedule and audio, its logs, heartbeat period, reboot. Each is a signed command on the
 * receiver's own topic; the receiver's answer (done, failed and why) is kept with it.
 */
export const receiverActionRoutes: FastifyPluginAsyncTypebox<CommandDeps> = async (app, deps) => {
  const { db } = deps;
  const receiverIn = async (id: string, request: { principal: unknown }) => {
    const receiver = await db.receiver.findUnique({ where: { id }, include: { village: true } });
    if (!receiver) throw notFound(`no receiver ${id}`);
    return { receiver, principal: requireScope(request.principal as never, ['technician'], receiver.village) };
  };

  app.post(
    '/receivers/:id/actions',
    {
      schema: {
        tags: ['receivers'],
        summary: 'Send a remote action to one receiver (a signed device command); its answer shows in GET .../actions',
        params: Type.Object({ id: Type.String() }),
        body: Action,
        response: {
          202: Type.Object({ commandId: Type.String(), kind: Type.String() }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { receiver, principal } = await receiverIn(request.params.id, request);
      const audible = request.body.action === 'test' && request.body.mode === 'audible';
      const command = commandOf(request.body, audible ? (await toneAssets(db)).get('chime') : undefined);
      const sent = await sendImmediate(deps, principal, {
        kind: command.kind,
        target: { type: 'receiver', receiverId: receiver.id },
        body: command.body as never,
      });
      return reply.status(202).send({ commandId: sent.id, kind: command.kind });
    },
  );

  app.get(
    '/receivers/:id/actions',
    {
      schema: {
        tags: ['receivers'],
        summary: "Commands recently sent to one receiver, with the receiver's answer",
        params: Type.Object({ id: Type.String() }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                commandId: Type.String(),
                kind: Type.String(),
                issuedAt: Type.String({ format: 'date-time' }),
                result: Type.Union([Type.String(), Type.Null()]),
                detail: Type.Union([Type.String(), Type.Null()]),
                answeredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
              }),
            ),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { receiver } = await receiverIn(request.params.id, request);
      const rows = await db.dispatchedCommand.findMany({
        where: { targetKey: `receiver:${receiver.id}` },
        orderBy: { issuedAt: 'desc' },
        take: 50,
      });
      return {
        items: rows.map((r) => ({
          commandId: r.id,
          kind: r.kind,
          issuedAt: r.issuedAt.toISOString(),
          result: r.result,
          detail: r.resultDetail,
          answeredAt: r.resultAt?.toISOString() ?? null,
        })),
      };
    },
  );

  app.get(
    '/receivers/:id/logs',
    {
      schema: {
        tags: ['receivers'],
        summary: 'Log lines the receiver sent (newest first), after a logs action',
        params: Type.Object({ id: Type.String() }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                commandId: Type.String(),
                receivedAt: Type.String({ format: 'date-time' }),
                lines: Type.Array(Type.String()),
              }),
            ),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { receiver } = await receiverIn(request.params.id, request);
      const rows = await db.receiverLog.findMany({
        where: { receiverId: receiver.id },
        orderBy: { receivedAt: 'desc' },
        take: 5,
      });
      return {
        items: rows.map((r) => ({ commandId: r.commandId, receivedAt: r.receivedAt.toISOString(), lines: r.lines })),
      };
    },
  );
};
