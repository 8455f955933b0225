import type { Database } from '../database/client.js';
import type { AreaLevel } from '../generated/prisma/client.js';
import { notFound } from '../http/problem.js';

export interface TargetRequest {
  areas: string[];
  receivers: string[];
}

export interface ResolvedTargets {
  areas: Array<{ id: string; code: string; path: string; level: AreaLevel }>;
  receivers: Array<{ id: string; village: { id: string; code: string; path: string } }>;
  /** Every enabled receiver the schedule reaches (areas at any depth, plus single receivers). */
  receiverIds: string[];
}

/** Looks up target areas and receivers (404 for unknown ones) and the receivers they reach. */
export async function resolveTargets(
  db: Pick<Database, 'area' | 'receiver'>,
  request: TargetRequest,
): Promise<ResolvedTargets> {
  const areas = await db.area.findMany({
    where: { code: { in: request.areas } },
    select: { id: true, code: true, path: true, level: true },
  });
  const missingAreas = request.areas.filter((c) => !areas.some((a) => a.code === c));
  if (missingAreas.length) throw notFound(`no area ${missingAreas.join(', ')}`);
  const receivers = await db.receiver.findMany({
    where: { id: { in: request.receivers } },
    select: { id: true, village: { select: { id: true, code: true, path: true } } },
  });
  const missingReceivers = request.receivers.filter((id) => !receivers.some((r) => r.id === id));
  if (missingReceivers.length) throw notFound(`no receiver ${missingReceivers.join(', ')}`);
  const reached = areas.length
    ? await db.receiver.findMany({
        where: { enabled: true, village: { OR: areas.map((a) => ({ path: { startsWith: a.path } })) } },
        select: { id: true },
      })
    : [];
  const receiverIds = [...new Set([...reached.map((r) => r.id), ...request.receivers])].sort();
  return { areas, receivers, receiverIds };
}
