import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LanguageCodeSchema } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import { toAsset } from '../assets/asset-view.js';
import { AudioJobSchema, answerJob } from '../assets/upload-routes.js';
import { actorOf } from '../audio/asset-intake.js';
import type { AudioJobs } from '../audio/audio-jobs.js';
import { toneAssets } from '../audio/tone-assets.js';
import type { Database } from '../database/client.js';
import { ProblemSchema } from '../http/problem.js';
import type { SpeechSynthesis } from './speech-synthesis.js';

/**
 * Speech and tones: `POST /speech/preview` synthesises a text (what a text variant will
 * sound like) as a job; `POST /speech/reading` shows the words the engine will be given;
 * `GET /tones` lists the chime and the sirens as assets.
 */
export const speechRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  jobs: AudioJobs;
  speech: SpeechSynthesis;
  processing: string;
}> = async (app, { db, jobs, speech, processing }) => {
  const TextInput = Type.Object(
    { language: LanguageCodeSchema, text: Type.String({ minLength: 1, maxLength: 20_000 }) },
    { additionalProperties: false },
  );

  app.post(
    '/speech/reading',
    {
      schema: {
        tags: ['speech'],
        summary: 'The words a text is read as (numbers, dates, times, units spelt out) and the voice that speaks them',
        body: TextInput,
        response: {
          200: Type.Object({ reading: Type.String(), voice: Type.Union([Type.String(), Type.Null()]) }),
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      requirePrincipal(request.principal);
      const { language, text } = request.body;
      return { reading: speech.reading(language, text), voice: speech.voiceFor(language) ?? null };
    },
  );

  app.post(
    '/speech/preview',
    {
      schema: {
        tags: ['speech'],
        summary: 'Synthesise a text as it will air (a job; `Prefer: wait=N` to wait for the asset)',
        description:
          'The same speech a text variant gets: read out, synthesised (espeak-ng by default), normalised and encoded. ' +
          'Cached by engine, voice and text, so previewing what is then saved costs nothing twice. 422 with reason ' +
          'no-speech-engine for a language no engine here speaks (record it instead, POST /recordings).',
        body: TextInput,
        headers: Type.Object({ prefer: Type.Optional(Type.String()) }),
        response: {
          201: Type.Object({}, { additionalProperties: true, description: 'The asset (as POST /assets answers)' }),
          202: Type.Object({ job: AudioJobSchema }),
          401: ProblemSchema,
          422: { ...ProblemSchema, description: 'No engine speaks the language' },
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const { language, text } = request.body;
      // The same text again joins (or finds) the same job.
      const id = createHash('sha256').update(`${language}\0${text}\0${processing}`).digest('hex').slice(0, 40);
      const job = await jobs.add({ kind: 'speech-preview', language, text }, actorOf(principal), `preview-${id}`);
      return answerJob(request, reply, db, jobs, job);
    },
  );

  app.get(
    '/tones',
    {
      schema: {
        tags: ['speech'],
        summary: 'The chime and the sirens of risk levels 1–5, as assets (made at start-up)',
        response: {
          200: Type.Array(Type.Object({ name: Type.String(), asset: Type.Object({}, { additionalProperties: true }) })),
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      requirePrincipal(request.principal);
      const tones = await toneAssets(db);
      return [...tones].map(([name, asset]) => ({ name, asset: toAsset(asset) }));
    },
  );
};
