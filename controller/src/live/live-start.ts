import type { CommandBody, CommandTarget } from '@loa/protocols';
import type { Principal } from '../access/principal.js';
import { recordAudit } from '../audit/audit-log.js';
import { publishCommand } from '../dispatch/command-publisher.js';
import { type CommandDeps, commandTargetKey, IMMEDIATE_TTL_MS } from '../dispatch/immediate-commands.js';
import type { Prisma } from '../generated/prisma/client.js';

/** What LiveSession.issuedTargets holds: each live.start envelope and where it went (acks are matched by commandId). */
export interface IssuedLiveTarget {
  commandId: string;
  target: CommandTarget;
}

/**
 * Sends live.start to every target. Like sendImmediateToEach, the envelopes are
 * recorded (DispatchedCommand and, here, the session's issuedTargets) *before* they are
 * published: a receiver acknowledges within milliseconds, and an acknowledgement that
 * arrived before its command was known would be lost.
 */
export async function sendLiveStart(
  deps: CommandDeps,
  actor: Principal | 'system',
  sessionId: string,
  targets: CommandTarget[],
  body: CommandBody<'live.start'>,
): Promise<IssuedLiveTarget[]> {
  const { db, signer, mqtt } = deps;
  const envelopes = [];
  for (const target of targets)
    envelopes.push(await signer.sign({ kind: 'live.start', target, body, ttlMs: IMMEDIATE_TTL_MS }));
  const issued = envelopes.map((e) => ({ commandId: e.id, target: e.target }));
  await db.$transaction([
    db.dispatchedCommand.createMany({
      data: envelopes.map((e) => ({
        id: e.id,
        kind: 'live.start',
        targetKey: commandTargetKey(e.target),
        occurrenceIds: [],
        issuedAt: new Date(e.issuedAt),
        expiresAt: new Date(e.expiresAt),
      })),
    }),
    db.liveSession.update({
      where: { id: sessionId },
      data: { issuedTargets: issued as unknown as Prisma.InputJsonValue },
    }),
  ]);
  await Promise.all(envelopes.map((e) => publishCommand(mqtt, e)));
  await recordAudit(db, {
    actor,
    action: 'live.start',
    entity: 'command',
    entityId: envelopes[0]?.id ?? sessionId,
    after: { targets, commandIds: issued.map((i) => i.commandId), body },
  });
  return issued;
}
