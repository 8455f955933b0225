import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AlertStatusSchema,
  type CommandBody,
  HazardSchema,
  LanguageCodeSchema,
  RISK_LEVEL_INFO,
  type RiskLevel,
  RiskLevelSchema,
} from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import type { Principal } from '../access/principal.js';
import { covers, requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import { type CommandDeps, sendImmediate } from '../dispatch/immediate-commands.js';
import type { Alert, AreaLevel } from '../generated/prisma/client.js';
import { forbidden, notFound, Problem, ProblemSchema } from '../http/problem.js';
import type { SpeechSynthesis } from '../speech/speech-synthesis.js';
import { alertItem, alertText } from './alert-audio.js';
import { type ApprovalRule, needsApproval } from './approval-rule.js';

const ROLES = ['emergency'] as const;
/** A signed command may claim at most 10 days (the receivers' limit); alerts last no longer. */
const MAX_ALERT_MS = 10 * 86_400_000 - 3_600_000;
const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

/** Text per language (any of them; the keys are language codes). */
const Texts = (maxLength: number, minProperties = 0) =>
  Type.Partial(Type.Record(LanguageCodeSchema, Type.String({ minLength: 1, maxLength })), { minProperties });

const CreateAlert = Type.Object(
  {
    status: AlertStatusSchema,
    hazard: HazardSchema,
    riskLevel: RiskLevelSchema,
    headline: Texts(300, 1),
    instruction: Type.Optional(Texts(2000)),
    audio: Type.Optional(
      Type.Partial(Type.Record(LanguageCodeSchema, Type.String({ pattern: '^[0-9a-f]{64}$' })), {
        description: 'Recorded audio (asset SHA-256) per language, for languages no speech engine speaks',
      }),
    ),
    areas: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    expiresAt: Type.String({ format: 'date-time' }),
    repeat: Type.Optional(
      Type.Object(
        {
          everyS: Type.Integer({ minimum: 60, maximum: 86_400 }),
          windowStart: Type.Optional(Type.String({ pattern: HHMM })),
          windowEnd: Type.Optional(Type.String({ pattern: HHMM })),
        },
        {
          additionalProperties: false,
          description: 'Air again every everyS seconds, within the window (Vietnam time)',
        },
      ),
    ),
    maxVolume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

const AlertView = Type.Object(
  {
    id: Type.String(),
    identifier: Type.String(),
    status: AlertStatusSchema,
    hazard: Type.String(),
    riskLevel: Type.Integer(),
    riskColour: Type.Object({ hex: Type.String(), textHex: Type.String(), vi: Type.String(), en: Type.String() }),
    state: Type.Union([Type.Literal('draft'), Type.Literal('issued'), Type.Literal('cancelled')]),
    headline: Type.Record(Type.String(), Type.String()),
    instruction: Type.Record(Type.String(), Type.String()),
    areas: Type.Array(Type.String()),
    expiresAt: Type.String({ format: 'date-time' }),
    needsApproval: Type.Boolean({ description: 'Whether a second person must approve it before it is issued' }),
    approved: Type.Boolean(),
    revision: Type.Integer(),
    issuedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    cancelledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Alert' },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export interface AlertRoutesOptions extends CommandDeps {
  speech: SpeechSynthesis;
  approval: ApprovalRule;
  now?: () => Date;
}

/**
 * Alerts: drafted by emergency staff, approved by a second one where the rule asks,
 * issued to every receiver of their areas at once (`alert.issue`, emergency priority, the
 * siren of the risk level, speech per language; Exercise and Test say so first),
 * cancelled in one action (`alert.cancel`). Each step is audited with who and when.
 */
export const alertRoutes: FastifyPluginAsyncTypebox<AlertRoutesOptions> = async (app, options) => {
  const { db } = options;
  const now = options.now ?? (() => new Date());

  const areasOf = (codes: string[]) =>
    db.area.findMany({ where: { code: { in: codes } }, select: { id: true, code: true, path: true, level: true } });

  /** The alert's areas, each in the principal's emergency scope (else 403). */
  async function scopedAreas(principal: Principal, codes: string[]) {
    const areas = await areasOf(codes);
    const missing = codes.filter((c) => !areas.some((a) => a.code === c));
    if (missing.length > 0) throw notFound(`no area ${missing.join(', ')}`);
    for (const area of areas) requireScope(principal, ROLES, area);
    return areas;
  }

  async function view(row: Alert) {
    const levels = (await areasOf(row.areaCodes)).map((a) => a.level);
    const info = RISK_LEVEL_INFO[row.riskLevel as RiskLevel];
    return {
      id: row.id,
      identifier: row.identifier,
      status: row.status,
      hazard: row.hazard,
      riskLevel: row.riskLevel,
      riskColour: { hex: info.hex, textHex: info.textHex, vi: info.colour.vi, en: info.colour.en },
      state: row.state,
      headline: row.headline as Record<string, string>,
      instruction: row.instruction as Record<string, string>,
      areas: row.areaCodes,
      expiresAt: row.expiresAt.toISOString(),
      needsApproval: needsApproval(options.approval, row.status, levels),
      approved: row.approvedById !== null,
      revision: row.revision,
      issuedAt: row.issuedAt?.toISOString() ?? null,
      cancelledAt: row.cancelledAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
    };
  }

  async function load(id: string, principal: Principal) {
    const row = await db.alert.findUnique({ where: { id } });
    if (!row) throw notFound(`no alert ${id}; GET /alerts lists the alerts you may see`);
    const areas = await scopedAreas(principal, row.areaCodes);
    return { row, areas };
  }

  const conflict = (detail: string) => new Problem(409, 'Conflict', detail);

  /** One signed command per target area, sent at once (one publish reaches the whole area). */
  async function toAreas<K extends 'alert.issue' | 'alert.cancel' | 'play.now'>(
    principal: Principal,
    areas: Array<{ level: AreaLevel; code: string }>,
    kind: K,
    body: CommandBody<K>,
    ttlMs?: number,
  ) {
    const sent = [];
    for (const area of areas)
      sent.push(
        await sendImmediate(options, principal, {
          kind,
          target: { type: 'area', level: area.level, areaCode: area.code },
          body,
          ...(ttlMs === undefined ? {} : { ttlMs }),
        }),
      );
    return sent;
  }

  const audit = (
    tx: Parameters<typeof recordAudit>[0],
    principal: Principal,
    action: string,
    before: Alert | undefined,
    after: Alert,
  ) => recordAudit(tx, { actor: principal, action, entity: 'alert', entityId: after.id, before, after });

  app.post(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Draft an alert (emergency staff of every target area)',
        body: CreateAlert,
        response: { 201: AlertView, ...Problems },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      await scopedAreas(principal, input.areas);
      const expiresAt = new Date(input.expiresAt);
      const left = expiresAt.getTime() - now().getTime();
      if (!(left > 60_000 && left <= MAX_ALERT_MS))
        throw new Problem(400, 'Bad Request', 'expiresAt must be more than a minute and at most ten days ahead');
      const row = await db.$transaction(async (tx) => {
        const created = await tx.alert.create({
          data: {
            identifier: `loa-${randomUUID()}`,
            status: input.status,
            hazard: input.hazard,
            riskLevel: input.riskLevel,
            headline: input.headline,
            instruction: input.instruction ?? {},
            audio: input.audio ?? {},
            areaCodes: input.areas,
            expiresAt,
            repeatEveryS: input.repeat?.everyS ?? null,
            windowStart: input.repeat?.windowStart ?? null,
            windowEnd: input.repeat?.windowEnd ?? null,
            maxVolume: input.maxVolume ?? null,
            createdById: principal.userId,
          },
        });
        await audit(tx, principal, 'create', undefined, created);
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
        querystring: Type.Object({
          state: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('issued'), Type.Literal('cancelled')])),
        }),
        response: { 200: Type.Object({ items: Type.Array(AlertView) }), 401: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const rows = await db.alert.findMany({
        where: request.query.state ? { state: request.query.state } : {},
        orderBy: { createdAt: 'desc' },
        take: 200,
      });
      const paths = new Map(
        (await areasOf([...new Set(rows.flatMap((r) => r.areaCodes))])).map((a) => [a.code, a.path]),
      );
      const mine = rows.filter((r) =>
        r.areaCodes.some((c) => covers(principal, ['emergency', 'official'], paths.get(c) ?? '~')),
      );
      return { items: await Promise.all(mine.map(view)) };
    },
  );

  app.get(
    '/alerts/:id',
    { schema: { tags: ['alerts'], summary: 'One alert', params: IdParams, response: { 200: AlertView, ...Problems } } },
    async (request) => view((await load(request.params.id, requirePrincipal(request.principal))).row),
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
      const { row } = await load(request.params.id, principal);
      if (row.createdById === principal.userId)
        throw forbidden('an alert is approved by a second person, not by the one who drafted it');
      if (row.state !== 'draft') throw conflict(`the alert is already ${row.state}; only a draft is approved`);
      const approved = await db.$transaction(async (tx) => {
        const done = await tx.alert.updateMany({
          where: { id: row.id, state: 'draft', approvedById: null },
          data: { approvedById: principal.userId, approvedAt: now() },
        });
        if (done.count === 0)
          throw conflict('someone approved or issued the alert meanwhile; reload it (GET /alerts/{id})');
        const after = await tx.alert.findUniqueOrThrow({ where: { id: row.id } });
        await audit(tx, principal, 'approve', row, after);
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
        summary: 'Issue the alert to every receiver of its areas at once (approved first where the rule asks)',
        params: IdParams,
        response: {
          200: Type.Object({
            alert: AlertView,
            commands: Type.Array(Type.Object({ id: Type.String(), topicTarget: Type.String() })),
          }),
          422: ProblemSchema,
          ...Problems,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { row, areas } = await load(request.params.id, principal);
      if (row.state !== 'draft')
        throw conflict(
          row.state === 'issued'
            ? 'the alert is already issued; to change what is on air, cancel it and draft a new one'
            : 'the alert is cancelled; draft a new one',
        );
      if (
        needsApproval(
          options.approval,
          row.status,
          areas.map((a) => a.level),
        ) &&
        !row.approvedById
      )
        throw conflict(
          `this ${row.status} alert to ${areas.map((a) => `${a.level} ${a.code}`).join(', ')} needs a second person's approval before it is issued (POST /alerts/${row.id}/approve)`,
        );
      if (row.expiresAt.getTime() <= now().getTime())
        throw conflict('the alert expired before it was issued; draft a new one');
      const words = {
        status: row.status,
        riskLevel: row.riskLevel as RiskLevel,
        headline: row.headline as Record<string, string>,
        instruction: row.instruction as Record<string, string>,
        audio: row.audio as Record<string, string>,
      };
      // The audio first: nothing is claimed or sent until every language that can sound does.
      const { item, assets } = await alertItem(db, options.speech, words, {
        itemId: row.identifier,
        title: alertText({ ...words, instruction: {} }, 'vie') || row.identifier,
        volume: row.maxVolume ?? 100,
      });
      const claimed = await db.alert.updateMany({
        where: { id: row.id, state: 'draft' },
        data: { state: 'issued', issuedAt: now(), issuedById: principal.userId },
      });
      if (claimed.count === 0)
        throw conflict('someone issued or cancelled the alert meanwhile; reload it (GET /alerts/{id})');
      const body: CommandBody<'alert.issue'> = {
        alertId: row.identifier,
        revision: row.revision,
        status: row.status,
        hazard: row.hazard as CommandBody<'alert.issue'>['hazard'],
        riskLevel: row.riskLevel as RiskLevel,
        priority: 'emergency',
        headline: words.headline,
        item,
        ...(row.repeatEveryS
          ? {
              repeat: {
                everyS: row.repeatEveryS,
                ...(row.windowStart ? { windowStart: row.windowStart } : {}),
                ...(row.windowEnd ? { windowEnd: row.windowEnd } : {}),
              },
            }
          : {}),
        alertExpiresAt: row.expiresAt.getTime(),
        ...(row.maxVolume === null ? {} : { maxVolume: row.maxVolume }),
        assets,
      };
      const ttlMs = Math.min(MAX_ALERT_MS, row.expiresAt.getTime() - now().getTime());
      const commands = await toAreas(principal, areas, 'alert.issue', body, ttlMs);
      const issued = await db.alert.findUniqueOrThrow({ where: { id: row.id } });
      await audit(db, principal, 'issue', row, issued);
      return { alert: await view(issued), commands };
    },
  );

  app.post(
    '/alerts/:id/cancel',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Cancel in one action: playback stops on every receiver at once; optionally a cancellation message airs',
        params: IdParams,
        body: Type.Object(
          {
            reason: Type.Optional(Type.String({ maxLength: 500 })),
            message: Type.Optional(Texts(1000, 1)),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            alert: AlertView,
            commands: Type.Array(Type.Object({ id: Type.String(), topicTarget: Type.String() })),
          }),
          ...Problems,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { row, areas } = await load(request.params.id, principal);
      if (row.state === 'cancelled') throw conflict('the alert is already cancelled; nothing is on air for it');
      const claimed = await db.alert.updateMany({
        where: { id: row.id, state: { not: 'cancelled' } },
        data: {
          state: 'cancelled',
          cancelledAt: now(),
          cancelledById: principal.userId,
          cancelReason: request.body.reason ?? null,
        },
      });
      if (claimed.count === 0) throw conflict('someone cancelled the alert meanwhile; nothing more to do');
      const commands = [];
      if (row.state === 'issued') {
        // The stop goes out first; the message's speech is made after, so nothing delays it.
        const stop: CommandBody<'alert.cancel'> = {
          alertId: row.identifier,
          ...(request.body.reason ? { reason: request.body.reason } : {}),
        };
        commands.push(...(await toAreas(principal, areas, 'alert.cancel', stop)));
        const message = request.body.message;
        if (message) {
          const { item, assets } = await alertItem(
            db,
            options.speech,
            { status: row.status, riskLevel: 1, headline: message, instruction: {}, audio: {} },
            {
              itemId: `${row.identifier.slice(0, 100)}.cancelled`,
              title: 'Hủy cảnh báo',
              volume: row.maxVolume ?? 100,
              prelude: 'chime',
            },
          );
          commands.push(...(await toAreas(principal, areas, 'play.now', { item, assets })));
        }
      }
      const cancelled = await db.alert.findUniqueOrThrow({ where: { id: row.id } });
      await audit(db, principal, 'cancel', row, cancelled);
      return { alert: await view(cancelled), commands };
    },
  );
};
