import type { AssetRef, LanguageCode, Segment } from '@loa/protocols';
import { isLanguageCode } from '@loa/protocols';

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
