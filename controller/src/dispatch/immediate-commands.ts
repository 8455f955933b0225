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

export interface ImmediateCommand<K extends CommandKind> {
  kind: K;
  target: CommandTarget;
  body: CommandBody<K>;
  occurrenceIds?: string[];
  ttlMs?: number;
  /** The alert an alert.issue carries, so acknowledgements mark its deliveries. */
  alertId?: string;
}

/**
 * Signs, publishes at once, records and audits one immediate command. Recorded so a
 * receiver's acknowledgement can be matched to it and the audit names who sent what.
 */
export async function sendImmediate<K extends CommandKind>(
  deps: CommandDeps,
  principal: Principal,
  command: ImmediateCommand<K>,
): Promise<{ id: string; topicTarget: string }> {
  const [sent] = await sendImmediateToEach(deps, principal, { ...command, targets: [command.target] });
  if (!sent) throw new Error('no command sent');
  return sent;
}

/**
 * The same command to several targets (an alert to areas and single receivers): every
 * envelope signed, then all published together, then recorded in one insert and one
 * audit entry, so a thousand targets cost one round of publishes, not a thousand of
 * round trips to the database before the last one goes out.
 */
export async function sendImmediateToEach<K extends CommandKind>(
  deps: CommandDeps,
  principal: Principal | 'system',
  command: Omit<ImmediateCommand<K>, 'target'> & { targets: CommandTarget[] },
): Promise<Array<{ id: string; topicTarget: string }>> {
  const { db, signer, mqtt } = deps;
  const envelopes = [];
  for (const target of command.targets)
    envelopes.push(
      await signer.sign({
        kind: command.kind,
        target,
        body: command.body,
        ttlMs: command.ttlMs ?? IMMEDIATE_TTL_MS,
      }),
    );
  const sent = envelopes.map((e) => ({ id: e.id, topicTarget: commandTargetKey(e.target) }));
  // Recorded before it is published: a receiver on a fast link acknowledges within
  // milliseconds, and an acknowledgement of a command not yet recorded would be lost.
  await db.dispatchedCommand.createMany({
    data: envelopes.map((envelope, i) => ({
      id: envelope.id,
      kind: command.kind,
      targetKey: sent[i]?.topicTarget ?? '',
      occurrenceIds: command.occurrenceIds ?? [],
      alertId: command.alertId ?? null,
      issuedAt: new Date(envelope.issuedAt),
      expiresAt: new Date(envelope.expiresAt),
    })),
  });
  await Promise.all(envelopes.map((envelope) => publishCommand(mqtt, envelope)));
  const first = envelopes[0];
  if (first)
    await recordAudit(db, {
      actor: principal,
      action: command.kind,
      entity: 'command',
      entityId: first.id,
      after: {
        ...(envelopes.length === 1 ? { target: first.target } : { targets: envelopes.map((e) => e.target) }),
        ...(envelopes.length === 1 ? {} : { commandIds: sent.map((c) => c.id) }),
        body: command.body,
      },
    });
  return sent;
}
