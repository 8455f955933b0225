import type { Principal } from '../access/principal.js';
import { covers, requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { Alert } from '../generated/prisma/client.js';
import { forbidden, notFound } from '../http/problem.js';

/** One alert, if the caller may act on it: its named areas and every receiver it reached are in their emergency scope. */
export async function loadAlert(db: Database, id: string, principal: Principal): Promise<Alert> {
  const row = await db.alert.findUnique({ where: { id } });
  if (!row) throw notFound(`no alert ${id}; GET /alerts lists the alerts you may see`);
  // The named areas must be the caller's (403 otherwise)...
  const areas = await db.area.findMany({ where: { code: { in: row.areaCodes } }, select: { code: true, path: true } });
  for (const area of areas) requireScope(principal, ['emergency'], area);
  // ...and so must every receiver it went to (drawn shapes were clipped to the issuer's scope).
  const reached = await db.alertDelivery.findMany({
    where: { alertId: row.id },
    select: { receiver: { select: { village: { select: { path: true, code: true } } } } },
    distinct: ['receiverId'],
  });
  const outside = reached.find((d) => !covers(principal, ['emergency'], d.receiver.village.path));
  if (outside)
    throw forbidden(`the alert reached village ${outside.receiver.village.code}, outside your emergency scope`);
  if (row.areaCodes.length === 0 && !principal.grants.some((g) => g.role === 'emergency' || g.role === 'admin'))
    throw forbidden('drawn alerts are for emergency staff; ask an administrator for an emergency grant');
  return row;
}
