import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyError } from 'fastify';
import { requirePrincipal } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { notModified } from '../http/etag.js';
import { notFound, Problem, ProblemSchema, problemHandler } from '../http/problem.js';
import type { AssetStore, ByteRange } from './asset-store.js';
import { AssetSchema, toAsset } from './asset-view.js';

/** A stored file never changes (its name is its hash), so anyone may keep it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const Sha256Params = Type.Object({
  sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the file (64 hex digits)' }),
});

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

export interface AssetRoutesOptions {
  db: Database;
  store: AssetStore;
}

/**
 * Audio assets, content-addressed: `GET /assets/{sha256}` serves a file to receivers
 * (public, byte ranges, immutable caching); `GET /assets/{sha256}/info` answers its record.
 * Uploads are the audio pipeline's (upload-routes.ts).
 */
export const assetRoutes: FastifyPluginAsyncTypebox<AssetRoutesOptions> = async (app, options) => {
  const { db, store } = options;

  // Fastify's refusal of a bad parameter, with a detail that says what to do.
  app.setErrorHandler((error: FastifyError | Problem, request, reply) => {
    if (error instanceof Problem) return problemHandler(error, request, reply);
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
