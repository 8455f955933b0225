import type { AssetRef, LanguageCode, Segment } from '@loa/protocols';
import { DEFAULT_SIREN_LEVEL, isLanguageCode, toneName } from '@loa/protocols';
import { toneAssets } from '../audio/tone-assets.js';
import type { Database } from '../database/client.js';

interface VariantWithAsset {
  language: string;
  asset: { sha256: string; bytes: number; durationMs: number } | null;
}

/** Where receivers fetch an asset: a path on the controller (the asset server is [5/8]'s). */
export function assetRef(asset: { sha256: string; bytes: number; durationMs: number }): AssetRef {
  return {
    sha256: asset.sha256,
    url: `/assets/${asset.sha256}`,
    bytes: asset.bytes,
    durationMs: asset.durationMs,
    mime: 'audio/ogg; codecs=opus',
  };
}

/**
 * The segments to air, one per language in the given airing order, for the languages
 * that have audio; languages still without audio (text awaiting synthesis) are skipped.
 */
export function audioSegments(
  variants: VariantWithAsset[],
  languages: readonly string[],
): { segments: Segment[]; assets: AssetRef[] } {
  const segments: Segment[] = [];
  const assets: AssetRef[] = [];
  for (const language of languages.filter(isLanguageCode) as LanguageCode[]) {
    const asset = variants.find((v) => v.language === language && v.asset)?.asset;
    if (!asset) continue;
    segments.push({ language, sha256: asset.sha256, durationMs: asset.durationMs });
    assets.push(assetRef(asset));
  }
  return { segments, assets };
}

type PreludeKind = 'none' | 'chime' | 'siren';

/**
 * The stored tone for an item's prelude (the chime; the default-level siren for a
 * schedule's siren prelude), to send as `preludeSha256` with its asset. Without a stored
 * tone the receiver sounds its built-in one, the same sound from the same definition.
 */
export async function preludeTones(
  db: Database,
): Promise<(prelude: PreludeKind) => { preludeSha256?: string; asset?: AssetRef }> {
  const tones = await toneAssets(db);
  return (prelude) => {
    if (prelude === 'none') return {};
    const tone = tones.get(prelude === 'chime' ? 'chime' : toneName('siren', DEFAULT_SIREN_LEVEL));
    return tone ? { preludeSha256: tone.sha256, asset: assetRef(tone) } : {};
  };
}
