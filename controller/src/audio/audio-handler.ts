import type { AssetStore } from '../assets/asset-store.js';
import type { Database } from '../database/client.js';
import type { SpeechSynthesis } from '../speech/speech-synthesis.js';
import { recordAsset } from './asset-intake.js';
import type { AudioHandler } from './audio-jobs.js';
import { type DecoderChoice, openAudio } from './decoding/decode-file.js';
import { type PipelineSettings, prepareAudio } from './pipeline.js';

export interface AudioHandlerOptions {
  db: Database;
  store: AssetStore;
  settings: PipelineSettings;
  decoder: DecoderChoice;
  ffmpeg?: string;
  speech: SpeechSynthesis;
  /** A text variant got its speech: schedules airing the content are provisioned again. */
  onContentChanged?: (contentId: string) => Promise<void>;
}

/** What each kind of audio job does. */
export function audioHandler(options: AudioHandlerOptions): AudioHandler {
  const { db, store, settings, speech } = options;
  return async (work, actor, progress) => {
    const report = (stage: string, fraction: number) => progress({ stage, fraction });
    switch (work.kind) {
      case 'upload': {
        const opened = await openAudio(work.path, {
          decoder: options.decoder,
          claimed: work.claimed,
          ...(options.ffmpeg ? { ffmpeg: options.ffmpeg } : {}),
        });
        const prepared = await prepareAudio(opened, settings, report);
        const asset = await recordAsset(db, store, prepared, {
          origin: work.origin,
          sourceSha256: work.sourceSha256,
          ...(actor ? { actor } : {}),
        });
        return { sha256: asset.sha256 };
      }
      case 'speech-variant': {
        const done = await speech.synthesiseVariant(work.variantId, report);
        // The variant was replaced or deleted meanwhile: nothing to give audio to.
        if (!done) return { sha256: '' };
        await options.onContentChanged?.(done.contentId);
        return { sha256: done.asset.sha256 };
      }
      case 'speech-preview':
        return { sha256: (await speech.synthesise(work.language, work.text, report)).sha256 };
    }
  };
}
