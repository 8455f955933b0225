import type { CommandBody, CommandKind, CommandSigner, CommandTarget } from '@loa/protocols';
import type { MqttClient } from 'mqtt';
import type { Principal } from '../access/principal.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { ResolvedTargets } from '../scheduling/targets.js';
import { publishCommand } from './command-publisher.js';

/** Immediate commands live briefly: if a receiver cannot get one within a minute, it is moot. */
export const IMMEDIATE_TTL_MS = 60_000;

export interface CommandDeps {
  db: Database;
  signer: CommandSigner;
  mqtt: MqttClient;
}

/** One command target per target area (one publish reaches the whole area) and per single receiver. */
export function commandTargetsOf(targets: Pick<ResolvedTargets, 'areas' | 'receivers'>): CommandTarget[] {
  return [
    ...targets.areas.map((a) => ({ type: 'area' as const, level: a.level, areaCode: a.code })),
    ...targets.receivers.map((r) => ({ type: 'receiver' as const, receiverId: r.id })),
  ];
}

export function commandTargetKey(target: CommandTarget): string {
  return target.type === 'area' ? `${target.level}:${target.areaCode}` : `receiver:${target.receiverId}`;
}

/**
 * Signs, publishes at once, records and audits one immediate command. Recorded so a
 * receiver's acknowledgement can be matched to it and the audit names who sent what.
 */
export async function sendImmediate<K extends CommandKind>(
  deps: CommandDeps,
  principal: Principal,
  command: { kind: K; target: CommandTarget; body: CommandBody<K>; occurrenceIds?: string[]; ttlMs?: number },
): Promise<{ id: string; topicTarget: string }> {
  const { db, signer, mqtt } = deps;
  const envelope = await signer.sign({
    kind: command.kind,
    target: command.target,
    body: command.body,
    ttlMs: command.ttlMs ?? IMMEDIATE_TTL_MS,
  });
  await publishCommand(mqtt, envelope);
  const topicTarget = commandTargetKey(command.target);
  await db.dispatchedCommand.create({
    data: {
      id: envelope.id,
      kind: command.kind,
      targetKey: topicTarget,
      occurrenceIds: command.occurrenceIds ?? [],
      issuedAt: new Date(envelope.issuedAt),
      expiresAt: new Date(envelope.expiresAt),
    },
  });
  await recordAudit(db, {
    actor: principal,
    action: command.kind,
    entity: 'command',
    entityId: envelope.id,
    after: { target: command.target, body: command.body },
  });
  return { id: envelope.id, topicTarget };
}
