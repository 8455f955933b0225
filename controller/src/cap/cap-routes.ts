import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ATOM_MEDIA_TYPE, CAP_MAX_BYTES, CAP_MEDIA_TYPE, parseCap, writeAtomFeed, writeCap } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { covers, requirePrincipal } from '../access/scope.js';
import { loadAlert } from '../alerts/alert-access.js';
import { IdParams } from '../alerts/alert-view.js';
import type { Database } from '../database/client.js';
import type { Alert } from '../generated/prisma/client.js';
import { forbidden, notFound, Problem, ProblemSchema } from '../http/problem.js';
import { type CapIntakeDeps, takeCap } from './cap-intake.js';
import { capFromAlert } from './cap-mapping.js';

const XML_TYPES = [CAP_MEDIA_TYPE, 'application/xml', 'text/xml'];
const CapMessageSchema = Type.Object({
  id: Type.String(),
  sender: Type.String(),
  identifier: Type.String(),
  sent: Type.String({ description: 'The message’s own sent time, as written' }),
  msgType: Type.String({ description: 'Alert, Update, Cancel, Ack or Error' }),
  source: Type.String({ description: '"post <username>" or the feed URL it came from' }),
  outcome: Type.String({ description: 'draft, update, cancelled, ignored, refused' }),
  detail: Type.Union([Type.String(), Type.Null()]),
  receivedAt: Type.String({ format: 'date-time' }),
  alert: Type.Union([
    Type.Object({
      id: Type.String(),
      state: Type.String(),
      status: Type.String(),
      hazard: Type.String(),
      riskLevel: Type.Integer(),
      headline: Type.Record(Type.String(), Type.String()),
    }),
    Type.Null(),
  ]),
});
const CapResultSchema = Type.Object({
  outcome: Type.String({ description: 'draft, update, cancelled, ignored, duplicate (refused is answered 422)' }),
  detail: Type.String(),
  alertId: Type.Union([Type.String(), Type.Null()]),
});

/** The CAP 1.2 document of one alert as it stands (an Update references what it replaces; a cancelled one is a Cancel). */
export async function capDocument(db: Database, row: Alert, options: { sender: string; geocodeName: string }) {
  const areas = await db.area.findMany({ where: { code: { in: row.areaCodes } }, select: { code: true, name: true } });
  const references = row.referencesId ? await db.alert.findUnique({ where: { id: row.referencesId } }) : null;
  return writeCap(
    capFromAlert(row, {
      sender: options.sender,
      areaNames: new Map(areas.map((a) => [a.code, a.name])),
      geocodeName: options.geocodeName,
      ...(references
        ? { references: { identifier: references.identifier, sent: references.issuedAt ?? references.createdAt } }
        : {}),
    }),
  );
}

/**
 * CAP 1.2 in and out: POST /cap takes a message in (parsed safely, validated, then under
 * the policy: trusted senders' alerts become drafts for a person to approve and issue);
 * GET /alerts/{id}/cap exports one alert; the public GET /cap/alerts/{identifier} serves
 * the documents the per-area Atom feeds (GET /cap/feeds/{areaCode}) link to.
 */
export const capRoutes: FastifyPluginAsyncTypebox<CapIntakeDeps> = async (app, deps) => {
  const { db, policy } = deps;
  const exportAs = { sender: policy.ownSender, geocodeName: policy.geocodeNames[0] ?? 'loa:area' };
  app.addContentTypeParser(XML_TYPES, { parseAs: 'buffer', bodyLimit: CAP_MAX_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/cap',
    {
      schema: {
        tags: ['cap'],
        summary: 'Take in a CAP 1.2 message (application/cap+xml): a trusted sender’s alert becomes a draft',
        response: {
          200: CapResultSchema,
          201: CapResultSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      if (!Buffer.isBuffer(request.body))
        throw new Problem(415, 'Unsupported Media Type', `send the CAP document as ${XML_TYPES.join(' or ')}`);
      const parsed = parseCap(request.body);
      if (!parsed.ok)
        throw new Problem(400, 'Bad Request', `not a valid CAP 1.2 message: ${parsed.errors[0]?.message ?? ''}`, {
          errors: parsed.errors,
        });
      const result = await takeCap(deps, parsed.alert, `post ${principal.username}`, principal);
      if (result.outcome === 'refused') throw new Problem(422, 'Unprocessable Entity', result.detail, { ...result });
      const status = result.outcome === 'draft' || result.outcome === 'update' ? 201 : 200;
      if (status === 201 && result.alertId) reply.header('location', `/alerts/${result.alertId}`);
      return reply.status(status).send(result);
    },
  );

  app.get(
    '/cap/messages',
    {
      schema: {
        tags: ['cap'],
        summary: 'The CAP inbox: messages taken in (posted or polled), newest first, with what became of each',
        description:
          'For emergency staff. A message that became an alert is listed when that alert touches your areas ' +
          '(drawn-only alerts: for all emergency staff); refused, ignored and duplicate ones, which sounded nothing, ' +
          'are listed for all emergency staff, so a sender misconfigured in CAP_TRUSTED_SENDERS is seen.',
        querystring: Type.Object({
          outcome: Type.Optional(Type.String({ maxLength: 20 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        }),
        response: {
          200: Type.Object({ items: Type.Array(CapMessageSchema) }),
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      if (!principal.grants.some((g) => g.role === 'emergency' || g.role === 'admin'))
        throw forbidden('the CAP inbox is for emergency staff; ask an administrator for an emergency grant');
      const { outcome, limit } = request.query;
      const rows = await db.capMessage.findMany({
        where: outcome ? { outcome } : {},
        orderBy: { receivedAt: 'desc' },
        take: limit,
      });
      const alerts = await db.alert.findMany({
        where: { id: { in: rows.flatMap((r) => (r.alertId ? [r.alertId] : [])) } },
      });
      const paths = new Map(
        (
          await db.area.findMany({
            where: { code: { in: [...new Set(alerts.flatMap((a) => a.areaCodes))] } },
            select: { code: true, path: true },
          })
        ).map((a) => [a.code, a.path]),
      );
      const visible = new Map(
        alerts
          .filter(
            (a) =>
              a.areaCodes.length === 0 ||
              a.areaCodes.some((c) => covers(principal, ['emergency'], paths.get(c) ?? '~')),
          )
          .map((a) => [a.id, a]),
      );
      const now = deps.now();
      return {
        items: rows
          .filter((r) => !r.alertId || visible.has(r.alertId) || !alerts.some((a) => a.id === r.alertId))
          .map((r) => {
            const a = r.alertId ? visible.get(r.alertId) : undefined;
            return {
              id: r.id,
              sender: r.sender,
              identifier: r.identifier,
              sent: r.sent,
              msgType: r.msgType,
              source: r.source,
              outcome: r.outcome,
              detail: r.detail,
              receivedAt: r.receivedAt.toISOString(),
              alert: a
                ? {
                    id: a.id,
                    state: a.state === 'issued' && a.expiresAt <= now ? 'expired' : a.state,
                    status: a.status,
                    hazard: a.hazard,
                    riskLevel: a.riskLevel,
                    headline: a.headline as Record<string, string>,
                  }
                : null,
            };
          }),
      };
    },
  );

  app.get(
    '/alerts/:id/cap',
    {
      schema: {
        tags: ['cap'],
        summary: 'The alert as a CAP 1.2 document',
        params: IdParams,
        produces: [CAP_MEDIA_TYPE],
        response: { 200: Type.String(), 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const row = await loadAlert(db, request.params.id, requirePrincipal(request.principal));
      return reply.type(CAP_MEDIA_TYPE).send(await capDocument(db, row, exportAs));
    },
  );

  app.get(
    '/cap/alerts/:identifier',
    {
      schema: {
        tags: ['cap'],
        summary: 'Public: an issued (or updated, or cancelled) alert as CAP 1.2; drafts are never shown',
        params: Type.Object({ identifier: Type.String({ pattern: '^loa-[0-9a-f-]{36}$' }) }),
        produces: [CAP_MEDIA_TYPE],
        response: { 200: Type.String(), 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const row = await db.alert.findUnique({ where: { identifier: request.params.identifier } });
      if (!row?.issuedAt) throw notFound(`no public alert ${request.params.identifier}`);
      return reply.type(CAP_MEDIA_TYPE).send(await capDocument(db, row, exportAs));
    },
  );

  app.get(
    '/cap/feeds/:areaCode',
    {
      schema: {
        tags: ['cap'],
        summary: 'Public Atom feed of the alerts on air now for an area (to it, above it, or within it)',
        params: Type.Object({ areaCode: Type.String({ minLength: 1, maxLength: 64 }) }),
        produces: [ATOM_MEDIA_TYPE],
        response: { 200: Type.String(), 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const area = await db.area.findUnique({ where: { code: request.params.areaCode } });
      if (!area) throw notFound(`no area ${request.params.areaCode}`);
      const related = await db.area.findMany({
        where: { OR: [{ path: { startsWith: area.path } }, ...ancestorPaths(area.path).map((path) => ({ path }))] },
        select: { code: true },
      });
      const now = deps.now();
      const alerts = await db.alert.findMany({
        where: {
          state: 'issued',
          expiresAt: { gt: now },
          OR: [
            { areaCodes: { hasSome: related.map((a) => a.code) } },
            { deliveries: { some: { receiver: { village: { path: { startsWith: area.path } } } } } },
          ],
        },
        orderBy: { issuedAt: 'desc' },
        take: 100,
      });
      const base = `${request.protocol}://${request.host}`;
      const at = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const xml = writeAtomFeed({
        id: `${base}/cap/feeds/${encodeURIComponent(area.code)}`,
        title: `Cảnh báo thiên tai — ${area.name}`,
        updated: at(alerts[0]?.issuedAt ?? now),
        selfHref: `${base}/cap/feeds/${encodeURIComponent(area.code)}`,
        author: { name: policy.ownSender },
        entries: alerts.map((a) => {
          const headline = a.headline as Record<string, string>;
          return {
            id: `urn:cap:${policy.ownSender}:${a.identifier}`,
            title: `[${a.status}] ${headline.vie ?? Object.values(headline)[0] ?? a.identifier}`,
            updated: at(a.issuedAt ?? a.createdAt),
            capHref: `${base}/cap/alerts/${a.identifier}`,
          };
        }),
      });
      return reply.type(ATOM_MEDIA_TYPE).send(xml);
    },
  );
};

/** "/10/082/" → ["/10/"]: the paths of the areas above. */
function ancestorPaths(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}/`);
}
