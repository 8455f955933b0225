import type { LanguageCode } from '@loa/protocols';

/** A job of the audio queue. Each carries what its worker needs and who asked. */
export type AudioWork =
  | {
      kind: 'upload';
      /** The spooled upload, deleted once the job is finished (either way). */
      path: string;
      sourceSha256: string;
      origin: 'upload' | 'recording';
      /** The Content-Type or file extension it was sent as (refusals name it). */
      claimed?: string;
      filename?: string;
    }
  | { kind: 'speech-variant'; variantId: string }
  | { kind: 'speech-preview'; language: LanguageCode; text: string };

export type { AudioJobState } from '@loa/protocols';

/** What a finished job answers. */
export interface AudioJobResult {
  sha256: string;
}

/** The job's account, for GET /audio-jobs/{id} and the WebSocket (its shape is in protocols). */
export type { AudioJobView } from '@loa/protocols';
