import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { covers, requirePrincipal } from '../access/scope.js';
import type { Alert, Prisma } from '../generated/prisma/client.js';
import { forbidden, Problem, ProblemSchema } from '../http/problem.js';
import type { EventBus } from '../live-events/event-bus.js';
import { loadAlert } from './alert-access.js';
import { type AlertDeps, auditAlert, cancelAlert, conflict, issueAlert, MAX_ALERT_MS } from './alert-dispatch.js';
import { resolveAlertTargets } from './alert-targets.js';
import {
  AlertStateSchema,
  AlertView,
  alertPeople,
  alertView,
  CreateAlert,
  IdParams,
  Texts,
  UpdateAlert,
} from './alert-view.js';

const Problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const Commands = Type.Array(Type.Object({ id: Type.String(), topicTarget: Type.String() }));

export interface AlertRoutesOptions extends Omit<AlertDeps, 'now'> {
  now?: () => Date;
  /** Where every change of an alert is announced (`alert.changed` on /events), so other staff see it at once. */
  bus?: EventBus;
  /** Default seconds after issue by which receivers should have started (ALERT_ESCALATE_AFTER_S). */
  escalateAfterS?: number;
}

/**
 * Alerts: drafted by emergency staff, approved by a second one where the rule asks,
 * issued to every receiver of their areas and drawn shapes at once (`alert.issue`,
 * emergency priority, the siren of the risk level, speech per language; Exercise and
 * Test say so first), corrected by an Update that replaces it in flight, cancelled in
 * one action (`alert.cancel`). Each step is audited with who and when.
 */
export const alertRoutes: FastifyPluginAsyncTypebox<AlertRoutesOptions> = async (app, options) => {
  const { db } = options;
  const deps: AlertDeps = { ...options, now: options.now ?? (() => new Date()) };
  /** Alerts as the API shows them, with the people named on them (one query for a whole list). */
  const views = async (rows: Alert[]) => {
    const people = await alertPeople(db, rows);
    const now = deps.now();
    return rows.map((row) => alertView(options.approval, row, now, people));
  };
  const view = async (row: Alert) => (await views([row]))[0] as ReturnType<typeof alertView>;

  // Every successful change (each POST here: draft, approve, issue, update, cancel) is
  // announced, so a cancel or an issue by one person shows on every colleague's alert
  // bar at once instead of at their next poll.
  const bus = options.bus;
  if (bus)
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.method !== 'POST' || reply.statusCode >= 300) return payload;
      const params = request.params as { id?: string } | undefined;
      let alertId = params?.id ?? null;
      if (!alertId && typeof payload === 'string') alertId = (JSON.parse(payload) as { id?: string }).id ?? null;
      void bus.publish({ type: 'alert.changed', alertId, at: deps.now().toISOString() }).catch(() => {});
      return payload;
    });

  function checkExpiry(expiresAt: Date) {
    const left = expiresAt.getTime() - deps.now().getTime();
    if (!(left > 60_000 && left <= MAX_ALERT_MS))
      throw new Problem(400, 'Bad Request', 'expiresAt must be more than a minute and at most ten days ahead');
  }

  app.post(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Draft an alert to areas, drawn polygons or circles (emergency staff of every named area)',
        body: CreateAlert,
        response: { 201: AlertView, 422: ProblemSchema, ...Problems },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      const targeting = { areaCodes: input.areas ?? [], polygons: input.polygons ?? [], circles: input.circles ?? [] };
      if (targeting.areaCodes.length + targeting.polygons.length + targeting.circles.length === 0)
        throw new Problem(400, 'Bad Request', 'name at least one area, polygon or circle to alert');
      const expiresAt = new Date(input.expiresAt);
      checkExpiry(expiresAt);
      const targets = await resolveAlertTargets(db, principal, targeting);
      if (targets.receivers.length === 0)
        throw new Problem(
          422,
          'Unprocessable Entity',
          targets.clipped > 0
            ? `the drawn shapes hold ${targets.clipped} receivers, none in your emergency scope`
            : 'no receiver is inside the alert’s areas or drawn shapes; check the shapes against the receivers on the map (GET /receivers gives their positions)',
        );
      const identifier = `loa-${randomUUID()}`;
      const row = await db.$transaction(async (tx) => {
        const created = await tx.alert.create({
          data: {
            identifier,
            wireId: identifier,
            status: input.status,
            hazard: input.hazard,
            riskLevel: input.riskLevel,
            headline: input.headline,
            instruction: input.instruction ?? {},
            audio: input.audio ?? {},
            audioAnnouncesStatus: input.audioAnnouncesStatus ?? false,
            areaCodes: targeting.areaCodes,
            polygons: targeting.polygons,
            circles: targeting.circles,
            reachLevels: [...new Set(targets.levels)],
            expiresAt,
            repeatEveryS: input.repeat?.everyS ?? null,
            windowStart: input.repeat?.windowStart ?? null,
            windowEnd: input.repeat?.windowEnd ?? null,
            maxVolume: input.maxVolume ?? null,
            escalateAfterS: input.escalateAfterS ?? options.escalateAfterS ?? 60,
            createdById: principal.userId,
          },
        });
        await auditAlert(tx, principal, 'create', undefined, created);
        return created;
      });
      return reply
        .status(201)
        .header('location', `/alerts/${row.id}`)
        .send(await view(row));
    },
  );

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts touching areas the caller covers, newest first',
        querystring: Type.Object({ state: Type.Optional(AlertStateSchema) }),
        response: { 200: Type.Object({ items: Type.Array(AlertView) }), 401: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const state = request.query.state;
      const now = deps.now();
      const rows = await db.alert.findMany({
        where:
          state === 'expired'
            ? { state: 'issued', expiresAt: { lte: now } }
            : state === 'issued'
              ? { state, expiresAt: { gt: now } }
              : state
                ? { state }
                : {},
        orderBy: { createdAt: 'desc' },
        take: 200,
      });
      const paths = new Map(
        (
          await db.area.findMany({
            where: { code: { in: [...new Set(rows.flatMap((r) => r.areaCodes))] } },
            select: { code: true, path: true },
          })
        ).map((a) => [a.code, a.path]),
      );
      const creators = new Set(rows.filter((r) => r.areaCodes.length === 0).map((r) => r.createdById));
      // A drawn-only alert is listed for its creator and for emergency staff of any area (it is clipped to each one's scope).
      const mine = rows.filter((r) =>
        r.areaCodes.length === 0
          ? creators.has(principal.userId) || principal.grants.some((g) => g.role === 'emergency' || g.role === 'admin')
          : r.areaCodes.some((c) => covers(principal, ['emergency', 'official'], paths.get(c) ?? '~')),
      );
      return { items: await views(mine) };
    },
  );

  app.get(
    '/alerts/:id',
    { schema: { tags: ['alerts'], summary: 'One alert', params: IdParams, response: { 200: AlertView, ...Problems } } },
    async (request) => view(await loadAlert(db, request.params.id, requirePrincipal(request.principal))),
  );

  app.post(
    '/alerts/:id/approve',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Approve a draft: a second person, with the emergency role over every target area',
        params: IdParams,
        response: { 200: AlertView, ...Problems },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const row = await loadAlert(db, request.params.id, principal);
      if (row.createdById === principal.userId)
        throw forbidden('an alert is approved by a second person, not by the one who drafted it');
      if (row.state !== 'draft') throw conflict(`the alert is already ${row.state}; only a draft is approved`);
      const approved = await db.$transaction(async (tx) => {
        const done = await tx.alert.updateMany({
          where: { id: row.id, state: 'draft', approvedById: null },
          data: { approvedById: principal.userId, approvedAt: deps.now() },
        });
        if (done.count === 0)
          throw conflict('someone approved or issued the alert meanwhile; reload it (GET /alerts/{id})');
        const after = await tx.alert.findUniqueOrThrow({ where: { id: row.id } });
        await auditAlert(tx, principal, 'approve', row, after);
        return after;
      });
      return view(approved);
    },
  );

  app.post(
    '/alerts/:id/issue',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Issue the alert (or Update) to every receiver it reaches at once (approved first where the rule asks)',
        params: IdParams,
        response: {
          200: Type.Object({
            alert: AlertView,
            commands: Commands,
            receivers: Type.Integer({ description: 'Receivers the alert was sent to' }),
            clipped: Type.Integer({ description: 'Receivers inside the drawn shapes but outside your scope' }),
          }),
          422: ProblemSchema,
          ...Problems,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const issued = await issueAlert(deps, principal, await loadAlert(db, request.params.id, principal));
      return { ...issued, alert: await view(issued.alert) };
    },
  );

  app.post(
    '/alerts/:id/update',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Draft an Update (a correction) of an issued alert: once approved where the rule asks and issued, it replaces the alert in flight',
        params: IdParams,
        body: UpdateAlert,
        response: { 201: AlertView, ...Problems },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const original = await loadAlert(db, request.params.id, principal);
      if (original.state !== 'issued')
        throw conflict(
          `only the alert on air can be updated; this one is ${original.state}${original.state === 'draft' ? ' (cancel the draft and draft it again, or issue it first)' : original.state === 'updated' ? ' (update its latest revision instead: GET /alerts lists it)' : ' (draft a new alert)'}`,
        );
      const change = request.body;
      const expiresAt = change.expiresAt ? new Date(change.expiresAt) : original.expiresAt;
      if (change.expiresAt) checkExpiry(expiresAt);
      const identifier = `loa-${randomUUID()}`;
      const row = await db.$transaction(async (tx) => {
        const created = await tx.alert.create({
          data: {
            // Carried over: what it is (status never changes), where it goes, how it airs.
            status: original.status,
            hazard: change.hazard ?? original.hazard,
            riskLevel: change.riskLevel ?? original.riskLevel,
            headline: change.headline ?? (original.headline as Prisma.InputJsonValue),
            instruction: change.instruction ?? (original.instruction as Prisma.InputJsonValue),
            audio: change.audio ?? (original.audio as Prisma.InputJsonValue),
            audioAnnouncesStatus: change.audioAnnouncesStatus ?? original.audioAnnouncesStatus,
            areaCodes: original.areaCodes,
            polygons: original.polygons as Prisma.InputJsonValue,
            circles: original.circles as Prisma.InputJsonValue,
            reachLevels: original.reachLevels,
            wireId: original.wireId,
            repeatEveryS: change.repeat ? change.repeat.everyS : original.repeatEveryS,
            windowStart: change.repeat ? (change.repeat.windowStart ?? null) : original.windowStart,
            windowEnd: change.repeat ? (change.repeat.windowEnd ?? null) : original.windowEnd,
            maxVolume: change.maxVolume ?? original.maxVolume,
            escalateAfterS: change.escalateAfterS ?? original.escalateAfterS,
            identifier,
            referencesId: original.id,
            revision: original.revision + 1,
            expiresAt,
            createdById: principal.userId,
          },
        });
        await auditAlert(tx, principal, 'update', original, created);
        return created;
      });
      return reply
        .status(201)
        .header('location', `/alerts/${row.id}`)
        .send(await view(row));
    },
  );

  app.post(
    '/alerts/:id/cancel',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Cancel in one action (no approval needed): playback stops on every receiver at once; optionally a cancellation message airs',
        params: IdParams,
        body: Type.Object(
          {
            reason: Type.Optional(Type.String({ maxLength: 500 })),
            message: Type.Optional(Texts(1000, 1)),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alert: AlertView, commands: Commands }), ...Problems },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const row = await loadAlert(db, request.params.id, principal);
      const done = await cancelAlert(deps, principal, row, {
        ...(request.body.reason ? { reason: request.body.reason } : {}),
        ...(request.body.message ? { message: request.body.message as Record<string, string> } : {}),
      });
      return { ...done, alert: await view(done.alert) };
    },
  );
};
