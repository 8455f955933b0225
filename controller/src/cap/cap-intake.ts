import { randomUUID } from 'node:crypto';
import type { CapAlert } from '@loa/protocols';
import type { Principal } from '../access/principal.js';
import { type AlertDeps, auditAlert, cancelAlert } from '../alerts/alert-dispatch.js';
import { resolveAlertTargets } from '../alerts/alert-targets.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Alert } from '../generated/prisma/client.js';
import { Problem } from '../http/problem.js';
import { alertFromCap } from './cap-mapping.js';
import type { CapPolicy } from './cap-policy.js';

export type CapOutcome = 'draft' | 'update' | 'cancelled' | 'ignored' | 'refused' | 'duplicate';

export interface CapResult {
  outcome: CapOutcome;
  detail: string;
  alertId: string | null;
}

export interface CapIntakeDeps extends AlertDeps {
  policy: CapPolicy;
  /** Default escalation time of the drafts made (ALERT_ESCALATE_AFTER_S). */
  escalateAfterS: number;
}

/** The sender as an issuer: emergency grants on exactly the areas the policy lets it alert. */
async function senderPrincipal(db: Database, sender: string, codes: string[]): Promise<Principal> {
  const areas = await db.area.findMany({
    where: { code: { in: codes } },
    select: { id: true, code: true, path: true },
  });
  return {
    userId: randomUUID(),
    username: `cap:${sender}`,
    via: 'token',
    grants: areas.map((a) => ({ role: 'emergency' as const, areaId: a.id, areaCode: a.code, areaPath: a.path })),
  };
}

/** The newest message of the chain a CAP message references (ours, or one taken in from that sender). */
async function referenced(db: Database, cap: CapAlert, ownSender: string): Promise<Alert | undefined> {
  for (const ref of [...cap.references].reverse()) {
    const hit = await db.alert.findFirst({
      where:
        ref.sender === ownSender
          ? { identifier: ref.identifier }
          : { capSender: ref.sender, capIdentifier: ref.identifier },
    });
    if (hit) {
      const chain = await db.alert.findMany({ where: { wireId: hit.wireId }, orderBy: { revision: 'desc' }, take: 1 });
      return chain[0];
    }
  }
  return undefined;
}

/**
 * Takes in one valid CAP 1.2 message under the policy: only trusted senders, only within
 * the areas the policy gives each; an Alert becomes a draft awaiting a person (approval
 * where the rule asks, and the issue), an Update of an alert on air becomes a draft
 * Update of it, a Cancel from the sender of the alert cancels it at once (the safe
 * direction: a false alarm is withdrawn without waiting). Never issues anything itself.
 * Each message is recorded once per sender and identifier; a repeat is a duplicate.
 */
export async function takeCap(
  deps: CapIntakeDeps,
  cap: CapAlert,
  source: string,
  poster?: Principal,
): Promise<CapResult> {
  const { db } = deps;
  const seen = await db.capMessage.findUnique({
    where: { sender_identifier: { sender: cap.sender, identifier: cap.identifier } },
  });
  if (seen) return { outcome: 'duplicate', detail: `already taken in: ${seen.outcome}`, alertId: seen.alertId };
  const result = await decide(deps, cap, poster).catch((error: unknown) => {
    if (error instanceof Problem)
      return { outcome: 'refused' as const, detail: error.detail ?? error.message, alertId: null };
    throw error;
  });
  const created = await db.capMessage.createMany({
    data: [
      {
        sender: cap.sender,
        identifier: cap.identifier,
        sent: cap.sent,
        msgType: cap.msgType,
        source,
        outcome: result.outcome,
        detail: result.detail,
        alertId: result.alertId,
      },
    ],
    skipDuplicates: true,
  });
  if (created.count === 0) return { outcome: 'duplicate', detail: 'taken in meanwhile', alertId: result.alertId };
  await recordAudit(db, {
    actor: poster ?? 'system',
    action: `cap.${result.outcome}`,
    entity: 'cap',
    entityId: `${cap.sender} ${cap.identifier}`.slice(0, 200),
    after: { source, msgType: cap.msgType, status: cap.status, ...result },
  });
  return result;
}

async function decide(deps: CapIntakeDeps, cap: CapAlert, poster?: Principal): Promise<CapResult> {
  const { db, policy } = deps;
  const allowed = policy.trusted.get(cap.sender);
  if (!allowed)
    return {
      outcome: 'refused',
      detail: `sender ${cap.sender} is not trusted: an administrator adds it, with the areas it may alert, to CAP_TRUSTED_SENDERS`,
      alertId: null,
    };
  if (cap.msgType === 'Ack' || cap.msgType === 'Error')
    return { outcome: 'ignored', detail: `${cap.msgType} messages need nothing from us`, alertId: null };

  const previous = cap.msgType === 'Alert' ? undefined : await referenced(db, cap, policy.ownSender);
  if (cap.msgType === 'Cancel') {
    if (!previous) return { outcome: 'ignored', detail: 'cancels no alert we hold', alertId: null };
    const first = await db.alert.findFirst({ where: { wireId: previous.wireId }, orderBy: { revision: 'asc' } });
    if (first?.capSender !== cap.sender)
      return { outcome: 'refused', detail: 'only the sender of an alert may cancel it', alertId: previous.id };
    if (previous.state === 'cancelled')
      return { outcome: 'ignored', detail: 'already cancelled', alertId: previous.id };
    await cancelAlert(deps, poster ?? 'system', previous, { reason: cap.note ?? `cancelled by ${cap.sender}` });
    return { outcome: 'cancelled', detail: `cancelled (was ${previous.state})`, alertId: previous.id };
  }

  const mapped = alertFromCap(cap, policy.geocodeNames, deps.now());
  if (!mapped.ok) return { outcome: 'refused', detail: mapped.reason, alertId: null };
  const content = mapped.alert;
  const targeting = { areaCodes: content.areaCodes, polygons: content.polygons, circles: content.circles };
  const targets = await resolveAlertTargets(db, await senderPrincipal(db, cap.sender, allowed), targeting);
  if (poster) {
    // Whoever posts it must be able to alert those receivers too.
    const theirs = await resolveAlertTargets(db, poster, targeting);
    const mine = new Set(theirs.receivers.map((r) => r.id));
    if (targets.receivers.some((r) => !mine.has(r.id)))
      return { outcome: 'refused', detail: 'it reaches receivers outside your emergency scope', alertId: null };
  }
  if (targets.receivers.length === 0)
    return {
      outcome: 'refused',
      detail: 'it reaches no receiver within the areas this sender may alert',
      alertId: null,
    };
  const left = content.expiresAt.getTime() - deps.now().getTime();
  if (left <= 60_000)
    return { outcome: 'refused', detail: 'it has expired (or expires within a minute)', alertId: null };

  const update = previous?.state === 'issued' ? previous : undefined;
  if (update && update.status !== content.status)
    return {
      outcome: 'refused',
      detail: `an Update cannot turn ${update.status} into ${content.status}`,
      alertId: null,
    };
  const identifier = `loa-${randomUUID()}`;
  const row = await db.$transaction(async (tx) => {
    // An Update of a draft nobody issued yet replaces the draft.
    if (previous?.state === 'draft')
      await tx.alert.update({
        where: { id: previous.id },
        data: { state: 'cancelled', cancelledAt: deps.now(), cancelReason: `replaced by ${cap.identifier}` },
      });
    const created = await tx.alert.create({
      data: {
        identifier,
        wireId: update?.wireId ?? identifier,
        revision: update ? update.revision + 1 : 0,
        referencesId: update?.id ?? null,
        status: content.status,
        hazard: content.hazard,
        riskLevel: content.riskLevel,
        headline: content.headline,
        instruction: content.instruction,
        areaCodes: content.areaCodes,
        polygons: content.polygons,
        circles: content.circles,
        reachLevels: [...new Set(targets.levels)],
        // Receivers keep no alert longer than ten days.
        expiresAt: new Date(Math.min(content.expiresAt.getTime(), deps.now().getTime() + 10 * 86_400_000 - 3_600_000)),
        escalateAfterS: deps.escalateAfterS,
        origin: 'cap',
        capSender: cap.sender,
        capIdentifier: cap.identifier,
        capSent: cap.sent,
      },
    });
    await auditAlert(tx, poster ?? 'system', update ? 'cap.update' : 'cap.alert', previous, created);
    return created;
  });
  return update
    ? { outcome: 'update', detail: `draft Update of ${update.identifier}, awaiting issue`, alertId: row.id }
    : { outcome: 'draft', detail: 'draft awaiting approval and issue', alertId: row.id };
}
