import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LANGUAGE_CODES, LanguageCodeSchema } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import { listingPaths } from '../access/listing-scope.js';
import type { Principal } from '../access/principal.js';
import { ALL_ROLES, requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Prisma, Role } from '../generated/prisma/client.js';
import { ContentCategory } from '../generated/prisma/enums.js';
import { etagOf, notModified, requireCurrent } from '../http/etag.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';

/** Who may create, change and delete content: those who schedule it (admin grants cover every role). */
const CONTENT_ROLES: readonly Role[] = ['official', 'emergency'];

const CategorySchema = Type.Union(
  Object.values(ContentCategory).map((c) => Type.Literal(c)),
  { title: 'ContentCategory' },
);

const AssetSchema = Type.Object({
  sha256: Type.String(),
  durationMs: Type.Integer(),
  bytes: Type.Integer(),
  format: Type.String(),
  mime: Type.String(),
  loudnessLufs: Type.Union([Type.Number(), Type.Null()]),
  truePeakDbtp: Type.Union([Type.Number(), Type.Null()]),
});

const VariantSchema = Type.Object({
  language: Type.String({ description: 'ISO 639-3 language code' }),
  kind: Type.Union([Type.Literal('audio'), Type.Literal('text')], {
    description: 'audio: recorded; text: to be synthesised',
  }),
  text: Type.Union([Type.String(), Type.Null()]),
  asset: Type.Union([AssetSchema, Type.Null()]),
});

const ContentSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  title: Type.String(),
  category: CategorySchema,
  ownerAreaCode: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()], { description: 'Username of the creator' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  variants: Type.Array(VariantSchema, { description: 'One per language, sorted by language code' }),
});
type ContentBody = Static<typeof ContentSchema>;

const ContentSummarySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  title: Type.String(),
  category: CategorySchema,
  ownerAreaCode: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
  variants: Type.Array(
    Type.Object({ language: Type.String(), kind: Type.Union([Type.Literal('audio'), Type.Literal('text')]) }),
    { description: 'Languages present, and whether each is recorded audio or text still to synthesise' },
  ),
});

const Title = Type.String({ minLength: 1, maxLength: 200 });

const VariantInput = Type.Object(
  {
    language: LanguageCodeSchema,
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000, description: 'Text to synthesise' })),
    assetSha256: Type.Optional(
      Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of an uploaded audio asset' }),
    ),
  },
  { additionalProperties: false, description: 'A text variant (text) or an audio variant (assetSha256), not both' },
);
type VariantInput = Static<typeof VariantInput>;

const VariantsInput = Type.Array(VariantInput, {
  minItems: 1,
  maxItems: LANGUAGE_CODES.length,
  description: 'At least one, one per language',
});

const CreateInput = Type.Object(
  {
    title: Title,
    category: CategorySchema,
    ownerArea: Type.String({ minLength: 1, description: 'Code of the area that owns the content' }),
    variants: VariantsInput,
  },
  { additionalProperties: false },
);

const PatchInput = Type.Object(
  {
    title: Type.Optional(Title),
    category: Type.Optional(CategorySchema),
    variants: Type.Optional({ ...VariantsInput, description: 'Replaces every variant' }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const ConflictProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.String(),
  schedules: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), ownerAreaCode: Type.String() })),
});

const contentInclude = {
  ownerArea: { select: { code: true, path: true } },
  createdBy: { select: { username: true } },
  variants: { include: { asset: true }, orderBy: { language: 'asc' } },
} satisfies Prisma.ContentInclude;
type ContentRow = Prisma.ContentGetPayload<{ include: typeof contentInclude }>;

function toContent(row: ContentRow): ContentBody {
  return {
    id: row.id,
    title: row.title,
    category: row.category,
    ownerAreaCode: row.ownerArea.code,
    createdBy: row.createdBy?.username ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    variants: row.variants.map((v) => ({
      language: v.language,
      kind: v.kind,
      text: v.text,
      asset: v.asset
        ? {
            sha256: v.asset.sha256,
            durationMs: v.asset.durationMs,
            bytes: v.asset.bytes,
            format: v.asset.format,
            mime: v.asset.mime,
            loudnessLufs: v.asset.loudnessLufs,
            truePeakDbtp: v.asset.truePeakDbtp,
          }
        : null,
    })),
  };
}

const badRequest = (detail: string) => new Problem(400, 'Bad Request', detail);

/**
 * Checks the variants (exactly one of text or asset each, one per language, known assets)
 * and returns them as rows to create.
 */
async function checkVariants(db: Pick<Database, 'asset'>, variants: VariantInput[]) {
  const seen = new Set<string>();
  const rows = variants.map((v) => {
    if (seen.has(v.language)) throw badRequest(`language ${v.language} is given twice; give one variant per language`);
    seen.add(v.language);
    if (v.text !== undefined && v.assetSha256 !== undefined)
      throw badRequest(
        `variant ${v.language} has both text and assetSha256; give text for a variant to synthesise or assetSha256 for recorded audio, not both`,
      );
    if (v.assetSha256 !== undefined)
      return { language: v.language, kind: 'audio' as const, assetSha256: v.assetSha256.toLowerCase(), text: null };
    if (v.text === undefined || v.text.trim() === '')
      throw badRequest(`variant ${v.language} needs text (to synthesise) or assetSha256 (recorded audio)`);
    return { language: v.language, kind: 'text' as const, assetSha256: null, text: v.text.trim() };
  });
  const wanted = [...new Set(rows.flatMap((r) => (r.assetSha256 ? [r.assetSha256] : [])))];
  if (wanted.length > 0) {
    const known = await db.asset.findMany({ where: { sha256: { in: wanted } }, select: { sha256: true } });
    const missing = wanted.filter((s) => !known.some((k) => k.sha256 === s));
    if (missing.length > 0)
      throw new Problem(
        422,
        'Unprocessable Content',
        `no audio asset ${missing.join(', ')}; upload the recording first and use the sha256 it returns`,
        { missingAssets: missing },
      );
  }
  return rows;
}

/**
 * A text variant sent again with the same words keeps the speech already made for it, so
 * changing a title does not leave receivers without audio until synthesis runs again.
 */
function keepSynthesised(
  rows: Awaited<ReturnType<typeof checkVariants>>,
  current: { language: string; kind: string; text: string | null; assetSha256: string | null }[],
) {
  return rows.map((row) => {
    if (row.kind !== 'text') return row;
    const before = current.find((v) => v.language === row.language && v.kind === 'text' && v.text === row.text);
    return before?.assetSha256 ? { ...row, assetSha256: before.assetSha256 } : row;
  });
}

/** Locks the content row for the rest of the transaction and loads it (404 if unknown). */
async function loadForChange(tx: Prisma.TransactionClient, id: string): Promise<ContentRow> {
  await tx.$queryRaw`SELECT 1 FROM "Content" WHERE id = ${id}::uuid FOR UPDATE`;
  const row = await tx.content.findUnique({ where: { id }, include: contentInclude });
  if (!row) throw notFound(`no content ${id}`);
  return row;
}

const title = (value: string) => {
  const trimmed = value.trim();
  if (!trimmed) throw badRequest('title must not be blank');
  return trimmed;
};

/**
 * Content: what is aired, one variant per language (recorded audio, or text to synthesise).
 * Owned by an area; officials and emergency staff covering that area create and change it.
 */
export const contentRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  /** Called after a change to content (schedules using it may need re-provisioning). */
  onContentChanged?: (contentId: string) => Promise<void>;
  /** Called after content is saved with text variants still to synthesise (queues the speech). */
  onTextToSynthesise?: (contentId: string) => Promise<void>;
}> = async (app, { db, onContentChanged, onTextToSynthesise }) => {
  /** Follow-up work of a saved change; its failure must not make the caller retry the change. */
  const followUp = async (
    request: { log: { error: (o: object, m: string) => void } },
    id: string,
    changed: boolean,
  ) => {
    try {
      if (changed) await onContentChanged?.(id);
      await onTextToSynthesise?.(id);
    } catch (error) {
      request.log.error({ err: error, contentId: id }, 'content saved, but its follow-up failed');
    }
  };
  app.get(
    '/content',
    {
      schema: {
        tags: ['content'],
        summary: 'Content owned by areas the caller may see',
        querystring: Type.Object({
          ...PageQuery,
          area: Type.Optional(Type.String({ description: 'Only content owned by this area (code) or below it' })),
          category: Type.Optional(CategorySchema),
          language: Type.Optional(LanguageCodeSchema),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(ContentSummarySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { area, category, language, limit } = request.query;
      const paths = await listingPaths(db, principal, area);
      const rows = await db.content.findMany({
        where: {
          ownerArea: { OR: paths.map((p) => ({ path: { startsWith: p } })) },
          ...(category ? { category } : {}),
          ...(language ? { variants: { some: { language } } } : {}),
        },
        include: {
          ownerArea: { select: { code: true } },
          variants: { select: { language: true, kind: true }, orderBy: { language: 'asc' } },
        },
        orderBy: { id: 'asc' },
        ...pageArgs({ cursor: request.query.cursor, limit: limit }),
      });
      const result = page(rows, limit);
      return {
        items: result.items.map((c) => ({
          id: c.id,
          title: c.title,
          category: c.category,
          ownerAreaCode: c.ownerArea.code,
          updatedAt: c.updatedAt.toISOString(),
          variants: c.variants,
        })),
        nextCursor: result.nextCursor,
      };
    },
  );

  app.get(
    '/content/:id',
    {
      schema: {
        tags: ['content'],
        summary: 'One content item with its variants and their audio (ETag; If-None-Match answers 304)',
        params: IdParams,
        response: {
          200: ContentSchema,
          304: Type.Null({ description: 'Not modified: your copy (If-None-Match) is current' }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const row = await db.content.findUnique({ where: { id: request.params.id }, include: contentInclude });
      if (!row) throw notFound(`no content ${request.params.id}`);
      requireScope(request.principal, ALL_ROLES, row.ownerArea);
      const body = toContent(row);
      if (notModified(request, reply, etagOf(body))) return reply.status(304).send(null);
      return body;
    },
  );

  app.post(
    '/content',
    {
      schema: {
        tags: ['content'],
        summary: 'Create content with at least one variant (text to synthesise, or an uploaded audio asset)',
        body: CreateInput,
        response: {
          201: ContentSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      const area = await db.area.findUnique({ where: { code: input.ownerArea } });
      if (!area) throw notFound(`no area ${input.ownerArea}`);
      requireScope(principal, CONTENT_ROLES, area);
      const name = title(input.title);
      const variants = await checkVariants(db, input.variants);
      const created = await db.$transaction(async (tx) => {
        const row = await tx.content.create({
          data: {
            title: name,
            category: input.category,
            ownerAreaId: area.id,
            createdById: principal.userId,
            variants: { create: variants },
          },
          include: contentInclude,
        });
        const body = toContent(row);
        await recordAudit(tx, { actor: principal, action: 'create', entity: 'content', entityId: row.id, after: body });
        return body;
      });
      await followUp(request, created.id, false);
      return reply
        .status(201)
        .header('etag', etagOf(created))
        .header('location', `/content/${created.id}`)
        .send(created);
    },
  );

  app.patch(
    '/content/:id',
    {
      schema: {
        tags: ['content'],
        summary: 'Change title, category or variants (variants are replaced whole); If-Match answers 412 when stale',
        params: IdParams,
        body: PatchInput,
        response: {
          200: ContentSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          412: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal: Principal = requirePrincipal(request.principal);
      const { id } = request.params;
      const input = request.body;
      if (input.title === undefined && input.category === undefined && input.variants === undefined)
        throw badRequest('nothing to change: give title, category or variants');
      const name = input.title === undefined ? undefined : title(input.title);
      const updated = await db.$transaction(async (tx) => {
        const current = await loadForChange(tx, id);
        requireScope(principal, CONTENT_ROLES, current.ownerArea);
        const before = toContent(current);
        requireCurrent(request, etagOf(before));
        const variants = input.variants
          ? keepSynthesised(await checkVariants(tx, input.variants), current.variants)
          : undefined;
        const row = await tx.content.update({
          where: { id },
          data: {
            ...(name === undefined ? {} : { title: name }),
            ...(input.category === undefined ? {} : { category: input.category }),
            ...(variants ? { variants: { deleteMany: {}, create: variants } } : {}),
            updatedAt: new Date(),
          },
          include: contentInclude,
        });
        const after = toContent(row);
        await recordAudit(tx, { actor: principal, action: 'update', entity: 'content', entityId: id, before, after });
        return after;
      });
      await followUp(request, id, true);
      return reply.header('etag', etagOf(updated)).send(updated);
    },
  );

  app.delete(
    '/content/:id',
    {
      schema: {
        tags: ['content'],
        summary: 'Delete content no schedule uses (409 naming the schedules that still do)',
        params: IdParams,
        response: {
          204: Type.Null(),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ConflictProblemSchema,
          412: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { id } = request.params;
      await db.$transaction(async (tx) => {
        const current = await loadForChange(tx, id);
        requireScope(principal, CONTENT_ROLES, current.ownerArea);
        const before = toContent(current);
        requireCurrent(request, etagOf(before));
        const schedules = await tx.schedule.findMany({
          where: { contentId: id },
          select: { id: true, title: true, ownerArea: { select: { code: true } } },
          orderBy: { title: 'asc' },
        });
        if (schedules.length > 0) {
          const named = schedules.slice(0, 5).map((s) => `"${s.title}"`);
          const more = schedules.length > 5 ? ` and ${schedules.length - 5} more` : '';
          throw new Problem(
            409,
            'Conflict',
            `content is used by ${schedules.length} schedule(s): ${named.join(', ')}${more}; delete those schedules or give them other content first`,
            { schedules: schedules.map((s) => ({ id: s.id, title: s.title, ownerAreaCode: s.ownerArea.code })) },
          );
        }
        await tx.content.delete({ where: { id } });
        await recordAudit(tx, { actor: principal, action: 'delete', entity: 'content', entityId: id, before });
      });
      return reply.status(204).send(null);
    },
  );
};
