import { type AclRule, type AreaRef, controllerAcl, receiverAcl } from '@loa/protocols';
import type { Database } from '../database/client.js';

export interface BrokerAccount {
  username: string;
  passwordHash: string;
  rules: AclRule[];
}

/** Mosquitto password file: one `user:hash` line per account. */
export function renderPasswordFile(accounts: BrokerAccount[]): string {
  return accounts.map((a) => `${a.username}:${a.passwordHash}\n`).join('');
}

/** Mosquitto ACL file from protocols' ACL rules: publish → write, subscribe → read. */
export function renderAclFile(accounts: BrokerAccount[]): string {
  return accounts
    .map((a) =>
      [
        `user ${a.username}`,
        ...a.rules.map((r) => `topic ${r.access === 'publish' ? 'write' : 'read'} ${r.topic}`),
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

/** The area chain of a village path ("/10/082/02680/02680-01/"), top first. */
export async function areaChain(db: Database, villagePath: string): Promise<AreaRef[]> {
  const codes = villagePath.split('/').filter(Boolean);
  const areas = await db.area.findMany({ where: { code: { in: codes } }, select: { code: true, level: true } });
  return codes.flatMap((code) => {
    const area = areas.find((a) => a.code === code);
    return area ? [{ level: area.level, areaCode: code }] : [];
  });
}

/**
 * Every broker account: the controller's, and one per enabled receiver that has been
 * given credentials, each limited to what protocols allows it.
 */
export async function brokerAccounts(
  db: Database,
  controller: { username: string; passwordHash: string },
): Promise<BrokerAccount[]> {
  const receivers = await db.receiver.findMany({
    where: { enabled: true, mqttPasswordHash: { not: null } },
    include: { village: { select: { path: true } } },
    orderBy: { id: 'asc' },
  });
  const accounts: BrokerAccount[] = [{ ...controller, rules: controllerAcl() }];
  for (const r of receivers) {
    accounts.push({
      username: r.id,
      passwordHash: r.mqttPasswordHash as string,
      rules: receiverAcl(r.id, await areaChain(db, r.village.path)),
    });
  }
  return accounts;
}
