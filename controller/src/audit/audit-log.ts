import type { Principal } from '../access/principal.js';
import type { Prisma } from '../generated/prisma/client.js';

type Tx = Pick<Prisma.TransactionClient, 'auditLog'>;

/** JSON snapshot for the audit trail (Dates as ISO strings, BigInt as strings). */
function snapshot(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
  ) as Prisma.InputJsonValue;
}

/** Records one change: who, what, when, before and after. Call inside the change's transaction. */
export async function recordAudit(
  tx: Tx,
  entry: {
    actor: Principal | 'system';
    action: string;
    entity: string;
    entityId: string;
    before?: unknown;
    after?: unknown;
  },
): Promise<void> {
  const before = snapshot(entry.before);
  const after = snapshot(entry.after);
  await tx.auditLog.create({
    data: {
      actorKind: entry.actor === 'system' ? 'system' : entry.actor.via === 'token' ? 'token' : 'user',
      actorId: entry.actor === 'system' ? null : entry.actor.userId,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    },
  });
}
