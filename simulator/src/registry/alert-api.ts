import type { AlertStatus, RiskLevel } from '@loa/protocols';
import type { ControllerClient } from './controller-client.js';

export interface AlertDraft {
  status: AlertStatus;
  hazard: string;
  riskLevel: RiskLevel;
  headline: Record<string, string>;
  /** Recorded audio (asset SHA-256) per language: no speech engine needed. */
  audio: Record<string, string>;
  areas: string[];
  expiresInMs?: number;
}

export interface IssuedAlert {
  /** The controller's alert id (for /alerts/{id}/...). */
  id: string;
  /** Its CAP identifier. */
  identifier: string;
  /** The receivers' item id of its first airing. */
  itemId: string;
  /** True time the issue request was sent. */
  issuedAt: number;
  commandIds: string[];
}

/**
 * The item id a receiver gives an alert revision's first airing (edge-agent AlertKeeper's
 * airingId; later airings end in .1, .2, ...). `wireId` names the alert on the receivers.
 */
export function firstAiringItemId(wireId: string, revision: number): string {
  return `${wireId.slice(0, 100)}.r${revision}.0`;
}

/**
 * An alert as emergency staff issue it through the alert API: drafted by `issuer`,
 * approved by `approver` (a second person) where the controller's approval rule asks,
 * issued to every receiver of its areas.
 */
export async function issueAlert(
  issuer: ControllerClient,
  draft: AlertDraft,
  approver?: ControllerClient,
): Promise<IssuedAlert> {
  const { expiresInMs = 3_600_000, ...fields } = draft;
  const drafted = await issuer.post<{
    id: string;
    identifier: string;
    wireId: string;
    revision: number;
    needsApproval: boolean;
  }>('/alerts', {
    ...fields,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  });
  // Without an approver, an alert that needs one is refused at issue with the reason.
  if (drafted.needsApproval && approver) await approver.post(`/alerts/${drafted.id}/approve`, {});
  const issuedAt = Date.now();
  const issued = await issuer.post<{ commands: Array<{ id: string }> }>(`/alerts/${drafted.id}/issue`, {});
  return {
    id: drafted.id,
    identifier: drafted.identifier,
    itemId: firstAiringItemId(drafted.wireId, drafted.revision),
    issuedAt,
    commandIds: issued.commands.map((c) => c.id),
  };
}
