import type { Role } from '../generated/prisma/client.js';
import { forbidden, unauthorized } from '../http/problem.js';
import type { Principal } from './principal.js';

/**
 * Area scoping: a grant on an area covers that area and everything below it; `admin`
 * grants every role within its area. Used by every route that reads or targets areas.
 */
export function covers(principal: Principal, roles: readonly Role[], areaPath: string): boolean {
  return principal.grants.some(
    (g) => (g.role === 'admin' || roles.includes(g.role)) && areaPath.startsWith(g.areaPath),
  );
}

/** The area paths a principal may see with any of these roles (most general first, deduplicated). */
export function visiblePaths(principal: Principal, roles: readonly Role[]): string[] {
  const paths = principal.grants.filter((g) => g.role === 'admin' || roles.includes(g.role)).map((g) => g.areaPath);
  return [...new Set(paths)]
    .sort((a, b) => a.length - b.length)
    .filter((p, i, all) => !all.slice(0, i).some((q) => p.startsWith(q)));
}

export function requirePrincipal(principal: Principal | null | undefined): Principal {
  if (!principal) throw unauthorized();
  return principal;
}

export function requireScope(
  principal: Principal | null | undefined,
  roles: readonly Role[],
  area: { path: string; code: string },
): Principal {
  const p = requirePrincipal(principal);
  if (!covers(p, roles, area.path))
    throw forbidden(`no ${roles.join('/')} role covering area ${area.code}; ask an administrator for a grant there`);
  return p;
}

export const ALL_ROLES: readonly Role[] = ['admin', 'official', 'emergency', 'technician'];
