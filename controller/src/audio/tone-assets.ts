import { TONE_NAMES, type ToneName, toneSamples } from '@loa/protocols';
import type { AssetStore } from '../assets/asset-store.js';
import type { Database } from '../database/client.js';
import type { Asset } from '../generated/prisma/client.js';
import { recordAsset } from './asset-intake.js';
import { audioFromSamples } from './memory-audio.js';
import { type PipelineSettings, prepareAudio } from './pipeline.js';

/**
 * The chime and the five sirens as ordinary assets, made from the shared definitions in
 * @loa/protocols (the same sounds a receiver falls back to) through the same pipeline as
 * every upload, so they air exactly as loud as speech. Made at start-up; the encoder is
 * deterministic, so the same settings give the same files and nothing changes.
 */
export async function ensureTones(
  db: Database,
  store: AssetStore,
  settings: PipelineSettings,
): Promise<Record<ToneName, Asset>> {
  const tones = {} as Record<ToneName, Asset>;
  for (const name of TONE_NAMES) {
    const prepared = await prepareAudio(audioFromSamples(toneSamples(name)), settings);
    const asset = await recordAsset(db, store, prepared, { origin: 'tone' });
    await db.tone.upsert({
      where: { name },
      create: { name, assetSha256: asset.sha256 },
      update: { assetSha256: asset.sha256 },
    });
    tones[name] = asset;
  }
  return tones;
}

/** The tones as stored: name → asset (those not made yet are absent). */
export async function toneAssets(db: Database): Promise<Map<string, Asset>> {
  const rows = await db.tone.findMany({ include: { asset: true } });
  return new Map(rows.map((r) => [r.name, r.asset]));
}
