import type { AlertStatus, RiskLevel } from '@loa/protocols';
import type { ControllerClient } from './controller-client.js';

export interface AlertDraft {
  status: AlertStatus;
  hazard: string;
  riskLevel: RiskLevel;
  headline: Record<string, string>;
  /** Recorded audio (asset SHA-256) per language: no speech engine needed. */
  audio: Record<string, string>;
  /** Targets: area codes, drawn polygons (rings of [lat, lon]) and circles; at least one. */
  areas?: string[];
  polygons?: Array<Array<[number, number]>>;
  circles?: Array<{ lat: number; lon: number; radiusKm: number }>;
  expiresInMs?: number;
}

/** What an Update changes (POST /alerts/{id}/update); the rest is carried over. */
export interface AlertChange {
  riskLevel?: RiskLevel;
  hazard?: string;
  headline?: Record<string, string>;
  audio?: Record<string, string>;
}

export interface IssuedAlert {
  /** The controller's alert id (for /alerts/{id}/...). */
  id: string;
  /** Its CAP identifier. */
  identifier: string;
  /** The receivers' item id of its first airing. */
  itemId: string;
  /** The alert on the receivers (the same for an alert and its Updates), and this message's revision. */
  wireId: string;
  revision: number;
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
  const drafted = await issuer.post<Drafted>('/alerts', {
    ...fields,
    // A drill's recording must say it is not real where no speech engine can say it first
    // (the controller refuses it otherwise); the simulator's tones stand for such recordings.
    ...(draft.status !== 'Actual' && Object.keys(draft.audio).length > 0 ? { audioAnnouncesStatus: true } : {}),
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  });
  return approveAndIssue(issuer, drafted, approver);
}

/**
 * An Update (a correction) of the alert on air, as emergency staff make one: drafted with
 * what changes (`POST /alerts/{id}/update`: a new revision of the same wire id), approved
 * where the rule asks, issued; receivers then replace the older revision in flight.
 */
export async function updateAlert(
  issuer: ControllerClient,
  alertId: string,
  change: AlertChange,
  approver?: ControllerClient,
): Promise<IssuedAlert> {
  const drafted = await issuer.post<Drafted>(`/alerts/${alertId}/update`, change);
  return approveAndIssue(issuer, drafted, approver);
}

interface Drafted {
  id: string;
  identifier: string;
  wireId: string;
  revision: number;
  needsApproval: boolean;
}

async function approveAndIssue(
  issuer: ControllerClient,
  drafted: Drafted,
  approver: ControllerClient | undefined,
): Promise<IssuedAlert> {
  // Without an approver, an alert that needs one is refused at issue with the reason.
  if (drafted.needsApproval && approver) await approver.post(`/alerts/${drafted.id}/approve`, {});
  const issuedAt = Date.now();
  const issued = await issuer.post<{ commands: Array<{ id: string }> }>(`/alerts/${drafted.id}/issue`, {});
  return {
    id: drafted.id,
    identifier: drafted.identifier,
    itemId: firstAiringItemId(drafted.wireId, drafted.revision),
    wireId: drafted.wireId,
    revision: drafted.revision,
    issuedAt,
    commandIds: issued.commands.map((c) => c.id),
  };
}
