import type { CommandBody, CommandTarget, RiskLevel } from '@loa/protocols';
import type { Principal } from '../access/principal.js';
import { recordAudit } from '../audit/audit-log.js';
import { type CommandDeps, sendImmediateToEach } from '../dispatch/immediate-commands.js';
import type { Alert, Prisma } from '../generated/prisma/client.js';
import { Problem } from '../http/problem.js';
import type { FleetEvent } from '../live-events/fleet-event.js';
import type { SpeechSynthesis } from '../speech/speech-synthesis.js';
import { alertItem, alertText } from './alert-audio.js';
import type { Circle, Polygon } from './alert-targets.js';
import { resolveAlertTargets } from './alert-targets.js';
import { type ApprovalRule, needsApproval } from './approval-rule.js';

/** A signed command may claim at most 10 days (the receivers' limit); alerts last no longer. */
export const MAX_ALERT_MS = 10 * 86_400_000 - 3_600_000;

export interface AlertDeps extends CommandDeps {
  speech: SpeechSynthesis;
  approval: ApprovalRule;
  now: () => Date;
  onEvent?: (event: FleetEvent) => void;
}

export type Actor = Principal | 'system';
export const conflict = (detail: string) => new Problem(409, 'Conflict', detail);

const audit = (
  db: Parameters<typeof recordAudit>[0],
  actor: Actor,
  action: string,
  before: Alert | undefined,
  after: Alert,
) => recordAudit(db, { actor, action, entity: 'alert', entityId: after.id, before, after });

export { audit as auditAlert };

/**
 * Issues an alert (or an Update) to every receiver its targets reach, at once: the audio
 * first (nothing is claimed or sent until every language can sound), then the state, one
 * delivery row per receiver (unreachable if offline now), and the signed alert.issue on
 * each target topic. An Update carries the wire id of the alert it replaces and a higher
 * revision, so receivers swap it in flight; the replaced one becomes `updated`.
 */
export async function issueAlert(deps: AlertDeps, principal: Principal, row: Alert) {
  const { db, now } = deps;
  if (row.state !== 'draft')
    throw conflict(
      row.state === 'cancelled'
        ? 'the alert is cancelled; draft a new one'
        : `the alert is already ${row.state}; to change what is on air, update it (POST /alerts/{id}/update) or cancel it`,
    );
  if (row.expiresAt.getTime() <= now().getTime())
    throw conflict('the alert expired before it was issued; draft a new one');
  const targets = await resolveAlertTargets(db, principal, {
    areaCodes: row.areaCodes,
    polygons: row.polygons as Polygon[],
    circles: row.circles as Circle[],
  });
  if (targets.receivers.length === 0)
    throw new Problem(
      422,
      'Unprocessable Entity',
      'no receiver of yours is inside the alert’s areas or drawn shapes (receivers disabled or moved since it was drafted?); cancel this draft and draft it again over receivers in your scope',
    );
  if (needsApproval(deps.approval, row.status, targets.levels) && !row.approvedById)
    throw conflict(
      `this ${row.status} alert reaches ${[...new Set(targets.levels)].join(', ')} level and needs a second person's approval before it is issued (POST /alerts/${row.id}/approve)`,
    );
  const words = {
    status: row.status,
    riskLevel: row.riskLevel as RiskLevel,
    headline: row.headline as Record<string, string>,
    instruction: row.instruction as Record<string, string>,
    audio: row.audio as Record<string, string>,
    audioAnnouncesStatus: row.audioAnnouncesStatus,
  };
  const { item, assets } = await alertItem(db, deps.speech, words, {
    itemId: row.wireId,
    title: alertText({ ...words, instruction: {} }, 'vie') || row.wireId,
    volume: row.maxVolume ?? 100,
  });
  const issuedAt = now();
  await db.$transaction(async (tx) => {
    const claimed = await tx.alert.updateMany({
      where: { id: row.id, state: 'draft' },
      data: {
        state: 'issued',
        issuedAt,
        issuedById: principal.userId,
        issuedTargets: targets.commandTargets as unknown as Prisma.InputJsonValue,
      },
    });
    if (claimed.count === 0)
      throw conflict('someone issued or cancelled the alert meanwhile; reload it (GET /alerts/{id})');
    if (row.referencesId) {
      const replaced = await tx.alert.updateMany({
        where: { id: row.referencesId, state: 'issued' },
        data: { state: 'updated' },
      });
      if (replaced.count === 0)
        throw conflict('the alert this updates is no longer on air (cancelled, or already updated); draft a new one');
    }
    await tx.alertDelivery.createMany({
      data: targets.receivers.map((r) => ({
        alertId: row.id,
        receiverId: r.id,
        state: r.online ? ('pending' as const) : ('unreachable' as const),
        ...(r.online ? {} : { reason: 'offline when issued' }),
      })),
    });
  });
  const body: CommandBody<'alert.issue'> = {
    alertId: row.wireId,
    revision: row.revision,
    status: row.status,
    hazard: row.hazard as CommandBody<'alert.issue'>['hazard'],
    riskLevel: row.riskLevel as RiskLevel,
    priority: 'emergency',
    headline: words.headline,
    item,
    ...(row.repeatEveryS
      ? {
          repeat: {
            everyS: row.repeatEveryS,
            ...(row.windowStart ? { windowStart: row.windowStart } : {}),
            ...(row.windowEnd ? { windowEnd: row.windowEnd } : {}),
          },
        }
      : {}),
    alertExpiresAt: row.expiresAt.getTime(),
    ...(row.maxVolume === null ? {} : { maxVolume: row.maxVolume }),
    assets,
  };
  const ttlMs = Math.min(MAX_ALERT_MS, row.expiresAt.getTime() - issuedAt.getTime());
  const commands = await sendImmediateToEach(deps, principal, {
    kind: 'alert.issue',
    targets: targets.commandTargets,
    body,
    ttlMs,
    alertId: row.id,
  });
  const issued = await db.alert.findUniqueOrThrow({ where: { id: row.id } });
  await audit(db, principal, 'issue', row, issued);
  return { alert: issued, commands, receivers: targets.receivers.length, clipped: targets.clipped };
}

/**
 * Cancels an alert and every revision of it in one action: the stop goes out first, on
 * the very topics the live revision was issued on, then (optionally) a cancellation
 * message with a chime to the same receivers, made after so nothing delays the stop.
 */
export async function cancelAlert(
  deps: AlertDeps,
  actor: Actor,
  row: Alert,
  options: { reason?: string; message?: Record<string, string> } = {},
) {
  const { db, now } = deps;
  const chain = await db.alert.findMany({ where: { wireId: row.wireId, state: { not: 'cancelled' } } });
  if (chain.length === 0) throw conflict('the alert is already cancelled; nothing is on air for it');
  const live = chain.find((a) => a.state === 'issued');
  const cancelled = await db.alert.updateMany({
    where: { id: { in: chain.map((a) => a.id) }, state: { not: 'cancelled' } },
    data: {
      state: 'cancelled',
      cancelledAt: now(),
      cancelledById: actor === 'system' ? null : actor.userId,
      cancelReason: options.reason ?? null,
    },
  });
  if (cancelled.count === 0) throw conflict('someone cancelled the alert meanwhile; nothing more to do');
  const commands = [];
  if (live) {
    const targets = live.issuedTargets as unknown as CommandTarget[];
    commands.push(
      ...(await sendImmediateToEach(deps, actor, {
        kind: 'alert.cancel',
        targets,
        body: { alertId: live.wireId, ...(options.reason ? { reason: options.reason } : {}) },
      })),
    );
    if (options.message) {
      const { item, assets } = await alertItem(
        db,
        deps.speech,
        { status: live.status, riskLevel: 1, headline: options.message, instruction: {}, audio: {} },
        {
          itemId: `${live.wireId.slice(0, 100)}.cancelled`,
          title: 'Hủy cảnh báo',
          volume: live.maxVolume ?? 100,
          prelude: 'chime',
        },
      );
      commands.push(...(await sendImmediateToEach(deps, actor, { kind: 'play.now', targets, body: { item, assets } })));
    }
  }
  for (const before of chain)
    await audit(db, actor, 'cancel', before, await db.alert.findUniqueOrThrow({ where: { id: before.id } }));
  return { alert: await db.alert.findUniqueOrThrow({ where: { id: row.id } }), commands };
}
