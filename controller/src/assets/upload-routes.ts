import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.js';
import { requirePrincipal } from '../access/scope.js';
import { actorOf, findPrepared } from '../audio/asset-intake.js';
import type { AudioJobs } from '../audio/audio-jobs.js';
import type { AudioJobView } from '../audio/audio-work.js';
import { claimedFormat } from '../audio/decoding/sniff.js';
import type { Database } from '../database/client.js';
import { forbidden, notFound, Problem, ProblemSchema } from '../http/problem.js';
import { AssetSchema, toAsset } from './asset-view.js';

/** Largest upload accepted by default (ASSET_MAX_BYTES): 50 MiB. */
export const DEFAULT_ASSET_MAX_BYTES = 52_428_800;
/** Longest wait a client may ask for with `Prefer: wait=N`. */
const MAX_WAIT_S = 120;

export const AudioJobSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: 'upload, speech-variant or speech-preview' }),
    state: Type.Union(
      ['queued', 'active', 'completed', 'refused', 'failed'].map((s) => Type.Literal(s)),
      { description: 'refused: the file or text cannot be used (see reason); failed: retries spent' },
    ),
    stage: Type.Union([Type.String(), Type.Null()], { description: 'measuring or encoding, while active' }),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    sha256: Type.Union([Type.String(), Type.Null()], { description: 'The asset made, once completed' }),
    reason: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Union([Type.String(), Type.Null()]),
    attempts: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'AudioJob' },
);

const UploadAnswer = Type.Object({ job: AudioJobSchema });
const RefusalSchema = {
  ...ProblemSchema,
  properties: { ...ProblemSchema.properties, reason: { type: 'string' }, job: AudioJobSchema },
  description: 'The job ended without an asset: reason names why (refused) or failed',
};

/** Types an upload's body may be sent as, besides multipart/form-data. */
const RAW_TYPES = /^(audio\/[\w.+-]+|video\/webm|video\/mp4|application\/octet-stream)\s*(;.*)?$/i;

export interface UploadRoutesOptions {
  db: Database;
  jobs: AudioJobs;
  /** Where uploads wait for their job (inside ASSET_DIR, so every instance sharing it sees them). */
  incomingDir: string;
  maxBytes?: number;
  /** The current pipeline settings' key: a file already made with them is answered at once. */
  processing: string;
}

/** Anyone signed in with a grant (any role, any area) may upload: assets belong to no area. */
function requireUploader(principal: Principal | null): Principal {
  const p = requirePrincipal(principal);
  if (p.grants.length === 0)
    throw forbidden('uploading audio needs a role (official, emergency, technician or admin); ask an administrator');
  return p;
}

/** `Prefer: wait=N` (RFC 7240): how long the caller will wait for the result, in ms. */
export function preferredWaitMs(header: string | undefined): number {
  const match = /(?:^|[,;\s])wait\s*=\s*(\d+)/i.exec(header ?? '');
  return match ? Math.min(MAX_WAIT_S, Number(match[1])) * 1000 : 0;
}

/**
 * Answers a queued job: at once (202 with the job), or after waiting as asked — 201 with
 * the asset, 422 with the refusal, or 202 when it is still running.
 */
export async function answerJob(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  jobs: AudioJobs,
  queued: AudioJobView,
): Promise<FastifyReply> {
  const prefer = request.headers.prefer;
  const wait = preferredWaitMs(Array.isArray(prefer) ? prefer.join(',') : prefer);
  const job = wait > 0 ? ((await jobs.waitFor(queued.id, wait)) ?? queued) : queued;
  if (job.state === 'completed' && job.sha256) {
    const asset = await db.asset.findUniqueOrThrow({ where: { sha256: job.sha256 } });
    return reply
      .status(201)
      .header('location', `/assets/${asset.sha256}`)
      .header('preference-applied', 'wait')
      .send({ ...toAsset(asset), job });
  }
  if (job.state === 'refused')
    throw new Problem(422, 'Unprocessable Content', job.detail ?? 'the file cannot be used', {
      reason: job.reason ?? 'refused',
      job,
    });
  if (job.state === 'failed')
    throw new Problem(
      500,
      'Internal Server Error',
      `the audio job failed after ${job.attempts} attempts (${job.detail ?? 'no detail'}); try again later, and if it keeps failing tell an administrator (the controller's log names the job ${job.id})`,
      { reason: 'failed', job },
    );
  return reply.status(202).header('location', `/audio-jobs/${job.id}`).send({ job });
}

/**
 * Uploads: the file (multipart field "file", or the bytes as the body with its audio type)
 * is streamed to disk while it is hashed and counted, never held in memory, then queued
 * for the pipeline. Progress of the upload itself is the browser's to show; progress of
 * the work arrives on the WebSocket and at GET /audio-jobs/{id}.
 */
export const uploadRoutes: FastifyPluginAsyncTypebox<UploadRoutesOptions> = async (app, options) => {
  const { db, jobs, incomingDir, processing } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_ASSET_MAX_BYTES;
  await mkdir(incomingDir, { recursive: true });
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 4, parts: 6 } });
  app.addContentTypeParser(RAW_TYPES, (_request, payload, done) => done(null, payload));

  const tooLarge = () =>
    new Problem(
      413,
      'Content Too Large',
      `the file is larger than ${maxBytes} bytes (${(maxBytes / 1048576).toFixed(1)} MiB), the most accepted; encode it at a lower bitrate or split it into shorter recordings`,
      { maxBytes, reason: 'too-large' },
    );

  /** Streams the upload to a file of its own; answers where, its SHA-256 and what it claimed to be. */
  async function spool(request: FastifyRequest) {
    let source: Readable;
    let claimed: string | undefined;
    let filename: string | undefined;
    let truncated = () => false;
    if (request.isMultipart()) {
      const part = await request.file();
      if (!part)
        throw new Problem(400, 'Bad Request', 'no file in the form; send the recording as a form field named "file"', {
          reason: 'empty',
        });
      source = part.file;
      filename = part.filename;
      claimed = claimedFormat(part.mimetype, part.filename);
      truncated = () => part.file.truncated;
    } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
      source = request.body as Readable;
      claimed = claimedFormat(request.headers['content-type'], undefined);
    } else {
      throw new Problem(
        415,
        'Unsupported Media Type',
        `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted; send multipart/form-data with a "file" field, or the recording's bytes with its audio type (audio/mpeg, audio/wav, audio/ogg, audio/webm, ...)`,
      );
    }
    const path = join(incomingDir, `upload-${randomUUID()}`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            bytes += chunk.length;
            if (bytes > maxBytes) throw tooLarge();
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(path, { flags: 'wx' }),
      );
      if (truncated()) throw tooLarge();
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { path, sourceSha256: hash.digest('hex'), claimed, filename, bytes };
  }

  const upload = (origin: 'upload' | 'recording') => async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = requireUploader(request.principal);
    const file = await spool(request);
    if (file.bytes === 0) {
      await rm(file.path, { force: true });
      throw new Problem(
        422,
        'Unprocessable Content',
        'the file is empty (0 bytes); send the recording itself (a form field named "file", or the bytes as the body)',
        { reason: 'empty' },
      );
    }
    if (
      origin === 'recording' &&
      file.claimed &&
      !/^(audio|video)\/(webm|ogg)|^\.(webm|ogg|opus)$/.test(file.claimed)
    ) {
      await rm(file.path, { force: true });
      throw new Problem(
        415,
        'Unsupported Media Type',
        `a recording is WebM or Ogg (what browsers record), not ${file.claimed}; upload other files with POST /assets`,
      );
    }
    const existing = await findPrepared(db, file.sourceSha256, processing);
    if (existing) {
      await rm(file.path, { force: true });
      return reply
        .status(200)
        .header('location', `/assets/${existing.sha256}`)
        .send({ ...toAsset(existing), job: null });
    }
    const job = await jobs.add(
      {
        kind: 'upload',
        path: file.path,
        sourceSha256: file.sourceSha256,
        origin,
        ...(file.claimed ? { claimed: file.claimed } : {}),
        ...(file.filename ? { filename: file.filename } : {}),
      },
      actorOf(principal),
    );
    return answerJob(request, reply, db, jobs, job);
  };

  const responses = {
    200: Type.Intersect([AssetSchema, Type.Object({ job: Type.Null() })], {
      description: 'Already made from this very file',
    }),
    201: Type.Intersect([AssetSchema, Type.Object({ job: AudioJobSchema })], { description: 'Made while you waited' }),
    202: { ...UploadAnswer, description: 'Queued: follow the job on the WebSocket or at its Location' },
    400: ProblemSchema,
    401: ProblemSchema,
    403: ProblemSchema,
    413: ProblemSchema,
    415: ProblemSchema,
    422: RefusalSchema,
    500: RefusalSchema,
  };
  // Described for OpenAPI, not validated: the body is a stream the handler reads itself.
  const body = {
    content: {
      'multipart/form-data': { schema: { description: 'A form whose field "file" is the recording' } },
      'audio/*': { schema: { description: 'The recording itself, with its own type (audio/mpeg, audio/wav, ...)' } },
    },
  };
  const headers = Type.Object({
    prefer: Type.Optional(
      Type.String({ description: `wait=N: wait up to N s (at most ${MAX_WAIT_S}) for the result` }),
    ),
  });

  app.post(
    '/assets',
    {
      // Before the body is read: a stranger's upload is refused without receiving it.
      onRequest: async (request) => {
        requireUploader(request.principal);
      },
      schema: {
        tags: ['assets'],
        summary: 'Upload a recording (WAV, MP3, Ogg Opus/Vorbis, M4A/AAC, FLAC, WebM): normalised and encoded as a job',
        description:
          'Streamed to disk (at most ASSET_MAX_BYTES), then a job decodes it (ffmpeg where installed; WAV, MP3 and Ogg Opus ' +
          'also without), measures its loudness (EBU R128), brings it to the target (−16 LUFS, true peak ≤ −1 dBTP by ' +
          'default) and encodes Ogg Opus for the receivers. Answers 202 with the job (progress on the WebSocket /events ' +
          'as audio.job, and at GET /audio-jobs/{id}); with `Prefer: wait=N` answers 201 with the asset, or 422 saying ' +
          "why the file cannot be used (empty, not audio, disguised, corrupt, silent, too long). The same file again answers 200 at once. Use the asset's sha256 as a content variant's assetSha256.",
        headers,
        body,
        response: responses,
      },
    },
    upload('upload'),
  );

  app.post(
    '/recordings',
    {
      onRequest: async (request) => {
        requireUploader(request.principal);
      },
      schema: {
        tags: ['assets'],
        summary: 'Upload a recording made in the browser (WebM/Opus or Ogg), e.g. for an ethnic-language variant',
        description:
          'As POST /assets, for what MediaRecorder produces (audio/webm or audio/ogg); the asset is marked as a recording.',
        headers,
        body,
        response: responses,
      },
    },
    upload('recording'),
  );

  app.get(
    '/audio-jobs/:id',
    {
      schema: {
        tags: ['assets'],
        summary: 'An audio job: state, stage, progress, the asset made or why it was refused',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: AudioJobSchema, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const found = await jobs.view(request.params.id);
      // Someone else's upload is not yours to watch; speech anyone may.
      if (!found || (found.actor && found.view.kind === 'upload' && found.actor.userId !== principal.userId))
        throw notFound(`no audio job ${request.params.id} of yours`);
      return found.view;
    },
  );
};
