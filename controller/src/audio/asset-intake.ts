import type { Principal } from '../access/principal.js';
import type { AssetStore } from '../assets/asset-store.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Asset, AssetOrigin } from '../generated/prisma/client.js';
import type { PreparedAudio } from './pipeline.js';

/** Who caused the work, as a job carries it (serialisable; audit needs only these). */
export interface JobActor {
  userId: string;
  username: string;
  via: Principal['via'];
}

export const actorOf = (p: Principal): JobActor => ({ userId: p.userId, username: p.username, via: p.via });
const auditActor = (a: JobActor | undefined): Principal | 'system' => (a ? { ...a, grants: [] } : 'system');

/** Ogg Opus, which every asset is once the pipeline has made it. */
export const OGG_OPUS = { format: 'ogg-opus', mime: 'audio/ogg; codecs=opus' } as const;

/**
 * Stores a prepared asset and records it: the file first (a row is never there without its
 * file, or receivers would get 404), then the row. Preparing the same audio twice gives the
 * same bytes and so the same row, which concurrent jobs find rather than duplicate.
 */
export async function recordAsset(
  db: Database,
  store: AssetStore,
  prepared: PreparedAudio,
  meta: { origin: AssetOrigin; sourceSha256?: string; actor?: JobActor },
): Promise<Asset> {
  const sha256 = await store.put(prepared.ogg);
  const data = {
    sha256,
    durationMs: prepared.durationMs,
    bytes: prepared.ogg.length,
    ...OGG_OPUS,
    loudnessLufs: prepared.loudnessLufs,
    truePeakDbtp: prepared.truePeakDbtp,
    origin: meta.origin,
    sourceSha256: meta.sourceSha256 ?? null,
    sourceFormat: prepared.source.format,
    sourceDurationMs: prepared.source.durationMs,
    sourceLoudnessLufs: prepared.source.loudnessLufs,
    sourceTruePeakDbtp: prepared.source.truePeakDbtp,
    processing: prepared.processing,
  };
  return db.$transaction(async (tx) => {
    const inserted = await tx.asset.createMany({ data: [data], skipDuplicates: true });
    const row = await tx.asset.findUniqueOrThrow({ where: { sha256 } });
    if (inserted.count === 1)
      await recordAudit(tx, {
        actor: auditActor(meta.actor),
        action: 'create',
        entity: 'asset',
        entityId: sha256,
        after: row,
      });
    return row;
  });
}

/** An asset already made from the same uploaded file with the same settings, if any. */
export function findPrepared(db: Database, sourceSha256: string, processing: string): Promise<Asset | null> {
  return db.asset.findFirst({ where: { sourceSha256, processing }, orderBy: { createdAt: 'asc' } });
}
