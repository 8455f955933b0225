import type { Principal } from '../access/principal.js';
import { covers, requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { LiveSession, Role } from '../generated/prisma/client.js';
import { forbidden, notFound } from '../http/problem.js';

/** Who may open live speech: officials and emergency staff (and admins) of every target. */
export const SPEAKER_ROLES: readonly Role[] = ['official', 'emergency'];
/** Who may see a session: any role covering one of its areas or receivers. */
const VIEW_ROLES: readonly Role[] = ['official', 'emergency', 'technician'];

type Reach = Pick<LiveSession, 'areaIds' | 'receiverIds'>;

/** The area paths each session reaches (its areas', its single receivers' villages'), in two queries for all. */
export async function pathsOfSessions(db: Database, rows: Reach[]): Promise<string[][]> {
  const [areas, receivers] = await Promise.all([
    db.area.findMany({
      where: { id: { in: [...new Set(rows.flatMap((r) => r.areaIds))] } },
      select: { id: true, path: true },
    }),
    db.receiver.findMany({
      where: { id: { in: [...new Set(rows.flatMap((r) => r.receiverIds))] } },
      select: { id: true, village: { select: { path: true } } },
    }),
  ]);
  const areaPath = new Map(areas.map((a) => [a.id, a.path]));
  const villagePath = new Map(receivers.map((r) => [r.id, r.village.path]));
  return rows.map((row) =>
    [...row.areaIds.map((id) => areaPath.get(id)), ...row.receiverIds.map((id) => villagePath.get(id))].filter(
      (p): p is string => p !== undefined,
    ),
  );
}

export async function sessionPaths(db: Database, row: Reach): Promise<string[]> {
  return (await pathsOfSessions(db, [row]))[0] ?? [];
}

/** 403 unless the caller may open live speech on every named area and receiver (404 for unknown ones). */
export async function requireSpeakerScope(
  db: Database,
  principal: Principal,
  areaIds: string[],
  receiverIds: string[],
): Promise<void> {
  const areas = await db.area.findMany({
    where: { id: { in: areaIds } },
    select: { id: true, code: true, path: true },
  });
  const missing = areaIds.filter((id) => !areas.some((a) => a.id === id));
  if (missing.length > 0) throw notFound(`no area ${missing.join(', ')} (areas are named by id: GET /areas)`);
  for (const area of areas) requireScope(principal, SPEAKER_ROLES, area);
  const receivers = await db.receiver.findMany({
    where: { id: { in: receiverIds } },
    select: { id: true, village: { select: { code: true, path: true } } },
  });
  const unknown = receiverIds.filter((id) => !receivers.some((r) => r.id === id));
  if (unknown.length > 0) throw notFound(`no receiver ${unknown.join(', ')}`);
  for (const r of receivers) requireScope(principal, SPEAKER_ROLES, r.village);
}

export function maySee(principal: Principal, paths: string[]): boolean {
  return paths.some((p) => covers(principal, VIEW_ROLES, p));
}

/** One session the caller may see (404 otherwise, or 403 when it exists outside their scope). */
export async function loadLiveSession(
  db: Database,
  id: string,
  principal: Principal,
): Promise<{ row: LiveSession; paths: string[] }> {
  const row = await db.liveSession.findUnique({ where: { id } });
  if (!row) throw notFound(`no live session ${id}; GET /live/sessions lists the ones you may see`);
  const paths = await sessionPaths(db, row);
  if (!maySee(principal, paths)) throw forbidden('this live session reaches no area of yours');
  return { row, paths };
}

/** The one speaking: the session's creator, or an admin of everything it reaches. */
export function maySpeak(principal: Principal, row: LiveSession, paths: string[]): boolean {
  return (
    (row.createdById !== null && row.createdById === principal.userId) ||
    // covers() with no roles: admin grants only.
    (paths.length > 0 && paths.every((p) => covers(principal, [], p)))
  );
}

/** Who may stop it: its creator, or emergency staff (or admins) over everything it reaches. */
export function mayStop(principal: Principal, row: LiveSession, paths: string[]): boolean {
  return (
    (row.createdById !== null && row.createdById === principal.userId) ||
    (paths.length > 0 && paths.every((p) => covers(principal, ['emergency'], p)))
  );
}
