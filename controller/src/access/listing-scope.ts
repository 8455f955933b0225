import type { Database } from '../database/client.js';
import { notFound } from '../http/problem.js';
import type { Principal } from './principal.js';
import { ALL_ROLES, requireScope, visiblePaths } from './scope.js';

/**
 * The area paths a list may cover: everything the caller can see, or, when the caller
 * narrows it to one area, that area (404 if unknown, 403 if outside the caller's scope).
 */
export async function listingPaths(
  db: Pick<Database, 'area'>,
  principal: Principal,
  areaCode?: string,
): Promise<string[]> {
  if (areaCode === undefined) return visiblePaths(principal, ALL_ROLES);
  const area = await db.area.findUnique({ where: { code: areaCode } });
  if (!area) throw notFound(`no area ${areaCode}`);
  requireScope(principal, ALL_ROLES, area);
  return [area.path];
}
