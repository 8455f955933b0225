import type { CommandTarget } from '@loa/protocols';
import type { Database } from '../database/client.js';
import type { AreaLevel } from '../generated/prisma/client.js';
import { notFound } from '../http/problem.js';

export interface LiveTargets {
  areas: Array<{ id: string; code: string; path: string; level: AreaLevel }>;
  /** Single receivers named, with their village (for scope checks). */
  named: Array<{ id: string; village: { code: string; path: string } }>;
  /** Every enabled receiver reached, whether it is online now. */
  receivers: Array<{ id: string; online: boolean }>;
  /** One publish per area (an area inside another named one is left out) and per single receiver outside them. */
  commandTargets: CommandTarget[];
}

/** Looks up a live session's areas (by id) and single receivers (404 for unknown ones) and the receivers they reach. */
export async function resolveLiveTargets(db: Database, areaIds: string[], receiverIds: string[]): Promise<LiveTargets> {
  const areas = await db.area.findMany({
    where: { id: { in: areaIds } },
    select: { id: true, code: true, path: true, level: true },
  });
  const missingAreas = areaIds.filter((id) => !areas.some((a) => a.id === id));
  if (missingAreas.length > 0) throw notFound(`no area ${missingAreas.join(', ')} (areas are named by id: GET /areas)`);
  const named = await db.receiver.findMany({
    where: { id: { in: receiverIds } },
    select: { id: true, enabled: true, online: true, village: { select: { code: true, path: true } } },
  });
  const missingReceivers = receiverIds.filter((id) => !named.some((r) => r.id === id));
  if (missingReceivers.length > 0) throw notFound(`no receiver ${missingReceivers.join(', ')}`);

  // A village named beside its commune hears the commune's topic already.
  const outer = areas.filter((a) => !areas.some((b) => b.path !== a.path && a.path.startsWith(b.path)));
  const inAreas = (path: string) => outer.some((a) => path.startsWith(a.path));
  const reached = new Map<string, boolean>();
  if (outer.length > 0)
    for (const r of await db.receiver.findMany({
      where: { enabled: true, village: { OR: outer.map((a) => ({ path: { startsWith: a.path } })) } },
      select: { id: true, online: true },
    }))
      reached.set(r.id, r.online);
  const single = named.filter((r) => r.enabled && !inAreas(r.village.path));
  for (const r of single) reached.set(r.id, r.online);

  return {
    areas,
    named: named.map((r) => ({ id: r.id, village: r.village })),
    receivers: [...reached].map(([id, online]) => ({ id, online })).sort((a, b) => a.id.localeCompare(b.id)),
    commandTargets: [
      ...outer.map((a) => ({ type: 'area' as const, level: a.level, areaCode: a.code })),
      ...single.map((r) => ({ type: 'receiver' as const, receiverId: r.id })),
    ],
  };
}
