import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLanguageCode, type LanguageCode } from '@loa/protocols';
import type { AssetStore } from '../assets/asset-store.js';
import { recordAsset } from '../audio/asset-intake.js';
import { AudioRefusal } from '../audio/decoding/audio-refusal.js';
import { type DecoderChoice, openAudio } from '../audio/decoding/decode-file.js';
import { type PipelineSettings, type Progress, prepareAudio, processingKey } from '../audio/pipeline.js';
import type { Database } from '../database/client.js';
import type { Asset } from '../generated/prisma/client.js';
import type { SpeechEngine } from './speech-engine.js';
import { readVietnameseText } from './vietnamese-reading.js';

/** How each language's text is read out before synthesis (numbers, dates, units as words). */
const READINGS: Partial<Record<LanguageCode, (text: string) => string>> = { vie: readVietnameseText };

export interface SpeechSynthesisOptions {
  db: Database;
  store: AssetStore;
  engine: SpeechEngine | undefined;
  settings: PipelineSettings;
  decoder: DecoderChoice;
  ffmpeg?: string;
  /** Where the engine's output waits for the pipeline. */
  workDir: string;
}

/**
 * Text variants to audio: read out (Vietnamese numbers, dates and times as words), looked
 * up in the cache by (engine, voice, reading, pipeline settings), else synthesised and put
 * through the pipeline like any upload.
 */
export class SpeechSynthesis {
  constructor(private readonly options: SpeechSynthesisOptions) {}

  /** The words as the engine will be given them. */
  reading(language: LanguageCode, text: string): string {
    return (READINGS[language] ?? ((t: string) => t.normalize('NFC')))(text).replace(/\s+/g, ' ').trim();
  }

  voiceFor(language: LanguageCode): string | undefined {
    return this.options.engine?.voiceFor(language);
  }

  async synthesise(language: LanguageCode, text: string, progress: Progress = () => {}): Promise<Asset> {
    const { db, store, engine, settings } = this.options;
    const voice = engine?.voiceFor(language);
    if (!engine || !voice)
      throw new AudioRefusal(
        'no-speech-engine',
        `no speech engine here speaks ${language}${engine ? ` (the ${engine.id} engine speaks others)` : ' (TTS_ENGINE=none)'}`,
      );
    const words = this.reading(language, text);
    const key = createHash('sha256')
      .update([engine.id, voice, processingKey(settings), words].join('\0'))
      .digest('hex');
    const cached = await db.speechCache.findUnique({ where: { key }, include: { asset: true } });
    if (cached && (await store.has(cached.assetSha256))) return cached.asset;

    const audio = await engine.synthesise(words, voice);
    await mkdir(this.options.workDir, { recursive: true });
    const path = join(this.options.workDir, `speech-${randomUUID()}`);
    try {
      await writeFile(path, audio);
      const opened = await openAudio(path, {
        decoder: this.options.decoder,
        ...(this.options.ffmpeg ? { ffmpeg: this.options.ffmpeg } : {}),
      });
      const prepared = await prepareAudio(opened, settings, progress);
      const asset = await recordAsset(db, store, prepared, { origin: 'speech' });
      await db.speechCache.upsert({
        where: { key },
        create: { key, engine: engine.id, voice, text: words, assetSha256: asset.sha256 },
        update: { assetSha256: asset.sha256 },
      });
      return asset;
    } finally {
      await rm(path, { force: true });
    }
  }

  /**
   * Synthesises a text variant and gives it the audio. Answers its content's id (for
   * re-provisioning), or undefined when the variant is gone or its text changed meanwhile.
   */
  async synthesiseVariant(
    variantId: string,
    progress?: Progress,
  ): Promise<{ contentId: string; asset: Asset } | undefined> {
    const { db } = this.options;
    const variant = await db.contentVariant.findUnique({ where: { id: variantId } });
    if (variant?.kind !== 'text' || !variant.text || !isLanguageCode(variant.language)) return undefined;
    const asset = await this.synthesise(variant.language, variant.text, progress);
    const updated = await db.contentVariant.updateMany({
      where: { id: variantId, text: variant.text },
      data: { assetSha256: asset.sha256 },
    });
    return updated.count === 1 ? { contentId: variant.contentId, asset } : undefined;
  }

  /** Text variants still without audio (of one content, or all), in languages the engine speaks. */
  async variantsToSynthesise(contentId?: string): Promise<string[]> {
    const rows = await this.options.db.contentVariant.findMany({
      where: { kind: 'text', assetSha256: null, text: { not: null }, ...(contentId ? { contentId } : {}) },
      select: { id: true, language: true },
    });
    return rows.filter((r) => isLanguageCode(r.language) && this.voiceFor(r.language)).map((r) => r.id);
  }
}
