import type { Grant, Principal } from '../access/principal.js';
import type { Database } from '../database/client.js';
import { hashToken } from './tokens.js';

const grantInclude = { grants: { include: { area: true } } } as const;

function toGrants(
  grants: Array<{ role: Grant['role']; areaId: string; area: { code: string; path: string } }>,
): Grant[] {
  return grants.map((g) => ({ role: g.role, areaId: g.areaId, areaCode: g.area.code, areaPath: g.area.path }));
}

/** The principal behind a session cookie, if the session is live and the user active. */
export async function principalFromSession(db: Database, token: string, now = new Date()): Promise<Principal | null> {
  const session = await db.session.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: { include: grantInclude } },
  });
  if (!session || session.expiresAt <= now || !session.user.active) return null;
  return {
    userId: session.userId,
    username: session.user.username,
    via: 'session',
    grants: toGrants(session.user.grants),
  };
}

/** The principal behind an API token (Authorization: Bearer), if valid. */
export async function principalFromApiToken(db: Database, token: string, now = new Date()): Promise<Principal | null> {
  const apiToken = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: { include: grantInclude } },
  });
  if (!apiToken || (apiToken.expiresAt && apiToken.expiresAt <= now) || !apiToken.user.active) return null;
  await db.apiToken.update({ where: { id: apiToken.id }, data: { lastUsedAt: now } });
  return {
    userId: apiToken.userId,
    username: apiToken.user.username,
    via: 'token',
    grants: toGrants(apiToken.user.grants),
  };
}
