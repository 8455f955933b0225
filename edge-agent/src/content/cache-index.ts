import type { AssetRef } from '@loa/protocols';

/** The cache's directory in the data directory: `<sha256>` files, `<sha256>.part` downloads, the index. */
export const ASSET_DIR = 'assets';
export const INDEX_NAME = `${ASSET_DIR}/index.json`;
export const SHA256_RE = /^[0-9a-f]{64}$/;
const PART_RE = /^([0-9a-f]{64})\.part$/;

export const assetFile = (sha: string) => `${ASSET_DIR}/${sha}`;
export const partFile = (sha: string) => `${ASSET_DIR}/${sha}.part`;

/** What the cache remembers of a verified asset across restarts. */
export interface IndexEntry {
  bytes: number;
  /** Order of last use (a counter, immune to clock jumps): lowest is evicted first. */
  lastUsed: number;
  /** Wall-clock time of last use, for people reading the status. */
  usedAt: number;
  /** Where it came from, to fetch it again if it is found damaged. */
  ref?: AssetRef;
}

export interface CacheIndex {
  v: 1;
  assets: Record<string, IndexEntry>;
}

/**
 * Reads the index document; anything unreadable gives an empty index (the cache then
 * rebuilds what it can from the files themselves: sizes, but no use order or origin).
 */
export function parseIndex(data: Buffer | undefined): CacheIndex {
  const empty: CacheIndex = { v: 1, assets: {} };
  if (!data) return empty;
  try {
    const doc = JSON.parse(data.toString('utf8')) as Partial<CacheIndex>;
    if (doc?.v !== 1 || typeof doc.assets !== 'object' || doc.assets === null) return empty;
    const assets: Record<string, IndexEntry> = {};
    for (const [sha, e] of Object.entries(doc.assets)) {
      if (!SHA256_RE.test(sha) || !e || !Number.isSafeInteger(e.bytes) || !Number.isFinite(e.lastUsed)) continue;
      const ref = e.ref && e.ref.sha256 === sha && typeof e.ref.url === 'string' ? e.ref : undefined;
      assets[sha] = {
        bytes: e.bytes,
        lastUsed: e.lastUsed,
        usedAt: Number.isFinite(e.usedAt) ? e.usedAt : 0,
        ...(ref ? { ref } : {}),
      };
    }
    return { v: 1, assets };
  } catch {
    return empty;
  }
}

/** Sorts the names found in the asset directory into verified assets and partial downloads. */
export function classify(names: readonly string[]): { assets: string[]; parts: string[] } {
  const assets: string[] = [];
  const parts: string[] = [];
  for (const name of names) {
    if (SHA256_RE.test(name)) assets.push(name);
    else {
      const part = PART_RE.exec(name)?.[1];
      if (part) parts.push(part);
    }
  }
  return { assets, parts };
}
