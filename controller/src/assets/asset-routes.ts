import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyError } from 'fastify';
import type { Principal } from '../access/principal.js';
import { requirePrincipal } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Asset } from '../generated/prisma/client.js';
import { notModified } from '../http/etag.js';
import { forbidden, notFound, Problem, ProblemSchema, problemHandler } from '../http/problem.js';
import type { AssetStore, ByteRange } from './asset-store.js';
import { type ProbeReason, probeOggOpus } from './ogg-opus-probe.js';

/** Largest upload accepted by default (ASSET_MAX_BYTES): 50 MiB, some hours of speech in Opus. */
export const DEFAULT_ASSET_MAX_BYTES = 52_428_800;
/** Longest recording accepted by default. */
export const DEFAULT_ASSET_MAX_DURATION_MS = 4 * 3600_000;

/** The one format stored until the audio pipeline converts others. */
export const OGG_OPUS = { format: 'ogg-opus', mime: 'audio/ogg; codecs=opus' } as const;
/** Content types an upload may be sent as. */
export const UPLOAD_TYPES = ['audio/ogg', 'audio/opus'] as const;
/** A stored file never changes (its name is its hash), so anyone may keep it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const Sha256Params = Type.Object({
  sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the file (64 hex digits)' }),
});

const AssetSchema = Type.Object(
  {
    sha256: Type.String({ description: 'SHA-256 of the file, lowercase hex: its name' }),
    url: Type.String({ description: 'Where receivers download it, relative to the controller' }),
    durationMs: Type.Integer({ description: 'Playing time' }),
    bytes: Type.Integer(),
    format: Type.String({ description: 'ogg-opus' }),
    mime: Type.String(),
    loudnessLufs: Type.Union([Type.Number(), Type.Null()], { description: 'Set by the audio pipeline' }),
    truePeakDbtp: Type.Union([Type.Number(), Type.Null()], { description: 'Set by the audio pipeline' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Asset' },
);
type AssetBody = Static<typeof AssetSchema>;

/** Raw bytes in the OpenAPI document; no validation (the probe checks them). */
const binary = (description: string) => ({ description, contentMediaType: 'audio/ogg' });

const audioResponse = (description: string) => ({
  description,
  content: { 'audio/ogg': { schema: binary('The Ogg Opus file, or the requested part of it') } },
});

const AssetHeaders = Type.Object({
  range: Type.Optional(
    Type.String({ description: 'One byte range: bytes=a-b, bytes=a- or bytes=-n (the last n bytes)' }),
  ),
  'if-none-match': Type.Optional(Type.String({ description: '"<sha256>": answers 304 (the file never changes)' })),
  'if-range': Type.Optional(Type.String({ description: 'Range applies only if this is the ETag "<sha256>"' })),
});

function toAsset(row: Asset): AssetBody {
  return {
    sha256: row.sha256,
    url: `/assets/${row.sha256}`,
    durationMs: row.durationMs,
    bytes: row.bytes,
    format: row.format,
    mime: row.mime,
    loudnessLufs: row.loudnessLufs,
    truePeakDbtp: row.truePeakDbtp,
    createdAt: row.createdAt.toISOString(),
  };
}

const CONVERT = 'convert it to Ogg Opus first (for example: ffmpeg -i input -c:a libopus -b:a 48k output.opus)';

/** What to do about each probe refusal, after the probe's own account of what is wrong. */
const ADVICE: Record<ProbeReason, string> = {
  empty: 'send the recording as the request body, with Content-Type: audio/ogg',
  'not-ogg': `${CONVERT} and upload that`,
  'not-opus': `${CONVERT} and upload that`,
  unsupported:
    'encode it again as mono or stereo Ogg Opus (for example with ffmpeg -ac 1 -c:a libopus) and upload that',
  'multiple-streams': 'upload one recording (one Opus stream) per file',
  truncated: 'upload the whole file again (check that the export or copy finished)',
  corrupt: 'export or encode the recording again and upload the new file',
  'zero-duration': 'upload a recording that holds audio',
  'too-long': 'split it into shorter recordings',
};

/**
 * One range of `Range: bytes=...` within a file of `size` bytes (RFC 9110 §14): undefined
 * when the whole file is to be sent (no Range, a malformed or multi-range one, which a
 * server may ignore), 'unsatisfiable' when the range lies outside the file.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** Anyone signed in with a grant (any role, any area) may upload: assets belong to no area. */
function requireUploader(principal: Principal | null): Principal {
  const p = requirePrincipal(principal);
  if (p.grants.length === 0)
    throw forbidden('uploading audio needs a role (official, emergency, technician or admin); ask an administrator');
  return p;
}

export interface AssetRoutesOptions {
  db: Database;
  store: AssetStore;
  /** Largest upload in bytes. Default 50 MiB. */
  maxBytes?: number;
  /** Longest recording. Default 4 hours. */
  maxDurationMs?: number;
}

/**
 * Audio assets, content-addressed: `POST /assets` checks an Ogg Opus upload, stores it by
 * its SHA-256 and records it; `GET /assets/{sha256}` serves it to receivers (public, byte
 * ranges, immutable caching); `GET /assets/{sha256}/info` answers its metadata.
 */
export const assetRoutes: FastifyPluginAsyncTypebox<AssetRoutesOptions> = async (app, options) => {
  const { db, store } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_ASSET_MAX_BYTES;
  const maxDurationMs = options.maxDurationMs ?? DEFAULT_ASSET_MAX_DURATION_MS;

  // In this plugin only: uploads are raw audio, nothing else is parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...UPLOAD_TYPES], { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) =>
    done(null, body),
  );

  // Fastify's own refusals (type, size, parameters) with a detail that says what to do.
  app.setErrorHandler((error: FastifyError | Problem, request, reply) => {
    if (error instanceof Problem) return problemHandler(error, request, reply);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return problemHandler(
        new Problem(
          415,
          'Unsupported Media Type',
          `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted; send the recording's bytes with Content-Type: audio/ogg (or audio/opus); only Ogg Opus is accepted until the audio pipeline converts other formats`,
        ),
        request,
        reply,
      );
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return problemHandler(
        new Problem(
          413,
          'Content Too Large',
          `the file is larger than ${maxBytes} bytes (${(maxBytes / 1048576).toFixed(1)} MiB), the most accepted; encode it at a lower bitrate or split it into shorter recordings`,
          { maxBytes },
        ),
        request,
        reply,
      );
    if (error.validation && error.validationContext === 'params')
      return problemHandler(
        new Problem(
          400,
          'Bad Request',
          'not a SHA-256: an asset is named by the 64 hex digits of its SHA-256, as POST /assets answers',
        ),
        request,
        reply,
      );
    return problemHandler(error, request, reply);
  });

  app.post(
    '/assets',
    {
      bodyLimit: maxBytes,
      // Before the body is read: a stranger's upload is refused without receiving it.
      onRequest: async (request) => {
        requireUploader(request.principal);
      },
      schema: {
        tags: ['assets'],
        summary: 'Upload an Ogg Opus recording: stored by its SHA-256 (201 new, 200 already stored)',
        description:
          'The body is the file itself (Content-Type audio/ogg or audio/opus, at most ASSET_MAX_BYTES). ' +
          'It is checked (Ogg pages and their CRCs, OpusHead, OpusTags, one stream, duration) before it is stored; ' +
          'anything else is refused with 422 saying what is wrong. Only Ogg Opus is accepted until the audio ' +
          "pipeline converts other formats. Use the answered sha256 as a content variant's assetSha256.",
        body: {
          content: {
            'audio/ogg': { schema: binary('The Ogg Opus file') },
            'audio/opus': { schema: binary('The Ogg Opus file') },
          },
        },
        response: {
          200: AssetSchema,
          201: AssetSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requireUploader(request.principal);
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const probed = probeOggOpus(bytes, { maxDurationMs });
      if (!probed.ok)
        throw new Problem(422, 'Unprocessable Content', `${probed.message}; ${ADVICE[probed.reason]}`, {
          reason: probed.reason,
        });
      // The file first: a row is never there without its file (receivers would get 404).
      // Should the database then fail, the file stays unreferenced; the next upload reuses it.
      const sha256 = await store.put(bytes);
      const data = { sha256, durationMs: probed.info.durationMs, bytes: bytes.length, ...OGG_OPUS };
      const { created, row } = await db.$transaction(async (tx) => {
        // Concurrent uploads of the same file: one inserts, the others find its row.
        const inserted = await tx.asset.createMany({ data: [data], skipDuplicates: true });
        if (inserted.count === 1) {
          const row = await tx.asset.findUniqueOrThrow({ where: { sha256 } });
          await recordAudit(tx, {
            actor: principal,
            action: 'create',
            entity: 'asset',
            entityId: sha256,
            after: toAsset(row),
          });
          return { created: true, row };
        }
        const current = await tx.asset.findUniqueOrThrow({ where: { sha256 } });
        const same =
          current.durationMs === data.durationMs &&
          current.bytes === data.bytes &&
          current.format === data.format &&
          current.mime === data.mime;
        if (same) return { created: false, row: current };
        // A row made another way (an older import) is corrected to what the file is.
        const row = await tx.asset.update({
          where: { sha256 },
          data: { durationMs: data.durationMs, bytes: data.bytes, format: data.format, mime: data.mime },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'update',
          entity: 'asset',
          entityId: sha256,
          before: toAsset(current),
          after: toAsset(row),
        });
        return { created: false, row };
      });
      return reply
        .status(created ? 201 : 200)
        .header('location', `/assets/${sha256}`)
        .send(toAsset(row));
    },
  );

  app.route({
    method: ['GET', 'HEAD'],
    url: '/assets/:sha256',
    schema: {
      tags: ['assets'],
      summary: 'Download an asset (public; byte ranges, ETag, cached for good)',
      description:
        'Receivers fetch audio here without signing in. One byte range per request (206 with Content-Range; ' +
        'a range outside the file answers 416 with Content-Range: bytes */size). The ETag is the SHA-256 in ' +
        'quotes; If-None-Match answers 304. The file never changes: Cache-Control is public and immutable.',
      security: [],
      params: Sha256Params,
      headers: AssetHeaders,
      response: {
        200: audioResponse('The whole file'),
        206: audioResponse('The requested range; Content-Range says which'),
        304: Type.Null({ description: 'Not modified: the file named by If-None-Match never changes' }),
        400: ProblemSchema,
        401: ProblemSchema,
        404: ProblemSchema,
        416: ProblemSchema,
      },
    },
    handler: async (request, reply) => {
      const sha256 = request.params.sha256.toLowerCase();
      const row = await db.asset.findUnique({ where: { sha256 }, select: { mime: true } });
      if (!row) throw notFound(`no asset ${sha256}; check the SHA-256, or upload the recording with POST /assets`);
      const size = await store.size(sha256);
      const missing = () => {
        request.log.error({ sha256 }, 'asset recorded but its file is not in the store');
        return notFound(`asset ${sha256} is recorded but its file is missing here; upload the recording again`);
      };
      if (size === undefined) throw missing();
      const etag = `"${sha256}"`;
      reply.header('accept-ranges', 'bytes').header('x-content-type-options', 'nosniff');
      if (notModified(request, reply, etag)) return reply.status(304).header('cache-control', IMMUTABLE).send(null);
      // If-Range: a range only of this very file (a strong ETag); otherwise the whole file.
      const ifRange = request.headers['if-range'];
      const range =
        ifRange === undefined || ifRange.trim() === etag ? parseRange(request.headers.range, size) : undefined;
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        problemHandler(
          new Problem(
            416,
            'Range Not Satisfiable',
            `the range ${request.headers.range} lies outside the file's ${size} bytes; ask for bytes 0-${size - 1} or fewer`,
            { bytes: size },
          ),
          request,
          reply,
        );
        return reply;
      }
      const length = range ? range.end - range.start + 1 : size;
      // Opened before the headers are set: a file gone meanwhile is still an ordinary 404.
      const stream =
        request.method === 'HEAD' || length === 0 ? undefined : await store.createReadStream(sha256, range);
      if (request.method !== 'HEAD' && length > 0 && !stream) throw missing();
      reply
        .status(range ? 206 : 200)
        .type(row.mime)
        .header('cache-control', IMMUTABLE)
        .header('content-length', String(length));
      if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
      // Streamed from the store as it is sent, never read into memory whole.
      return reply.send(stream);
    },
  });

  app.get(
    '/assets/:sha256/info',
    {
      schema: {
        tags: ['assets'],
        summary: "An asset's record: duration, size, format, loudness once measured",
        params: Sha256Params,
        response: { 200: AssetSchema, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      requirePrincipal(request.principal);
      const sha256 = request.params.sha256.toLowerCase();
      const row = await db.asset.findUnique({ where: { sha256 } });
      if (!row) throw notFound(`no asset ${sha256}; check the SHA-256, or upload the recording with POST /assets`);
      return toAsset(row);
    },
  );
};
