import { join } from 'node:path';
import type { AssetStore } from '../assets/asset-store.js';
import type { ControllerConfig } from '../config.js';
import type { Database } from '../database/client.js';
import { EspeakNgEngine } from '../speech/espeak-ng-engine.js';
import { HttpSpeechEngine, parseVoices } from '../speech/http-speech-engine.js';
import type { SpeechEngine } from '../speech/speech-engine.js';
import { SpeechSynthesis } from '../speech/speech-synthesis.js';
import type { JobActor } from './asset-intake.js';
import { audioHandler } from './audio-handler.js';
import { AudioJobs } from './audio-jobs.js';
import type { AudioJobView } from './audio-work.js';
import type { DecoderChoice } from './decoding/decode-file.js';
import { type PipelineSettings, processingKey } from './pipeline.js';
import { ensureTones } from './tone-assets.js';

type AudioConfig = Pick<
  ControllerConfig,
  | 'REDIS_URL'
  | 'QUEUE_PREFIX'
  | 'ASSET_DIR'
  | 'ASSET_MAX_DURATION_S'
  | 'AUDIO_DECODER'
  | 'FFMPEG_PATH'
  | 'LOUDNESS_TARGET_LUFS'
  | 'TRUE_PEAK_CEILING_DBTP'
  | 'OPUS_BITRATE'
  | 'OPUS_FRAME_MS'
  | 'TTS_ENGINE'
  | 'ESPEAK_NG_PATH'
  | 'TTS_HTTP_URL'
  | 'TTS_HTTP_VOICES'
>;

export function pipelineSettings(config: AudioConfig): PipelineSettings {
  return {
    targetLufs: config.LOUDNESS_TARGET_LUFS,
    ceilingDbtp: config.TRUE_PEAK_CEILING_DBTP,
    opus: { bitrate: config.OPUS_BITRATE, frameMs: config.OPUS_FRAME_MS as 10 | 20 | 40 | 60, expectedLossPercent: 10 },
    maxDurationMs: config.ASSET_MAX_DURATION_S * 1000,
  };
}

export function speechEngine(config: AudioConfig): SpeechEngine | undefined {
  if (config.TTS_ENGINE === 'none') return undefined;
  if (config.TTS_ENGINE === 'http') {
    if (!config.TTS_HTTP_URL) throw new Error('TTS_ENGINE=http needs TTS_HTTP_URL');
    return new HttpSpeechEngine(config.TTS_HTTP_URL, parseVoices(config.TTS_HTTP_VOICES));
  }
  return new EspeakNgEngine(config.ESPEAK_NG_PATH);
}

/**
 * The audio pipeline of one controller instance: its queue, its speech engine, its
 * settings. `start` makes the tones, works the queue and queues speech for text variants
 * that have none yet (the demo's programmes, text saved while the worker was down).
 */
export class AudioServices {
  readonly settings: PipelineSettings;
  readonly processing: string;
  readonly jobs: AudioJobs;
  readonly speech: SpeechSynthesis;
  readonly incomingDir: string;
  readonly decoder: DecoderChoice;

  constructor(
    private readonly db: Database,
    private readonly store: AssetStore,
    private readonly config: AudioConfig,
    engine: SpeechEngine | undefined = speechEngine(config),
  ) {
    this.settings = pipelineSettings(config);
    this.processing = processingKey(this.settings);
    this.decoder = config.AUDIO_DECODER;
    this.incomingDir = join(config.ASSET_DIR, 'incoming');
    this.jobs = new AudioJobs({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.speech = new SpeechSynthesis({
      db,
      store,
      engine,
      settings: this.settings,
      decoder: this.decoder,
      ffmpeg: config.FFMPEG_PATH,
      workDir: this.incomingDir,
    });
  }

  /** Queues speech for a content's text variants that have no audio yet. */
  async synthesiseContent(contentId?: string): Promise<void> {
    for (const variantId of await this.speech.variantsToSynthesise(contentId))
      await this.jobs.add({ kind: 'speech-variant', variantId }, undefined, `speech-variant-${variantId}`);
  }

  async start(options: {
    onContentChanged?: (contentId: string) => Promise<void>;
    onJob?: (view: AudioJobView, actor: JobActor | undefined) => void;
  }): Promise<void> {
    await ensureTones(this.db, this.store, this.settings);
    this.jobs.work(
      audioHandler({
        db: this.db,
        store: this.store,
        settings: this.settings,
        decoder: this.decoder,
        ffmpeg: this.config.FFMPEG_PATH,
        speech: this.speech,
        ...(options.onContentChanged ? { onContentChanged: options.onContentChanged } : {}),
      }),
      options.onJob,
    );
    await this.synthesiseContent();
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
