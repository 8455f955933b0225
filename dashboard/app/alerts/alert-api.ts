import { loadAllPages } from '../api/all-pages.ts';
import { type Area, loadAreas } from '../api/areas.ts';
import { api } from '../api/client.ts';
import type { Json } from '../api/json.ts';
import { ApiError, must, type Problem } from '../api/problem.ts';
import type { paths } from '../api/schema';

export type { Area };

/** An alert as the API shows it (with who drafted, approved, issued and cancelled it). */
export type Alert = Json<paths['/alerts/{id}']['get']['responses'][200]>;
export type AlertPerson = NonNullable<Alert['createdBy']>;
export type AlertState = Alert['state'];
export type AlertStatus = Alert['status'];
export type CreateAlertBody = NonNullable<paths['/alerts']['post']['requestBody']>['content']['application/json'];
export type UpdateAlertBody = NonNullable<
  paths['/alerts/{id}/update']['post']['requestBody']
>['content']['application/json'];
export type Deliveries = Json<paths['/alerts/{id}/deliveries']['get']['responses'][200]>;
export type DeliveryRow = Deliveries['items'][number];
export type Receiver = Json<paths['/receivers']['get']['responses'][200]>['items'][number];

/** Whether an alert still waits for a second person before it may be issued. */
export const waitsForApproval = (alert: Pick<Alert, 'state' | 'needsApproval' | 'approved'>) =>
  alert.state === 'draft' && alert.needsApproval && !alert.approved;

export const fetchReceivers = () =>
  loadAllPages((cursor) =>
    must(api.GET('/receivers', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } })),
  );

export const fetchAreas = () => loadAreas({ boundary: true });

export async function fetchAlerts(state?: AlertState): Promise<Alert[]> {
  const answer = await must(api.GET('/alerts', { params: { query: state ? { state } : {} } }));
  return answer.items as Alert[];
}

export const fetchAlert = async (id: string) =>
  (await must(api.GET('/alerts/{id}', { params: { path: { id } } }))) as Alert;

export const fetchDeliveries = (id: string) =>
  must(api.GET('/alerts/{id}/deliveries', { params: { path: { id }, query: { limit: 10_000 } } }));

export async function cancelAlert(id: string, body: { reason?: string; message?: { vie?: string } } = {}) {
  const answer = await must(api.POST('/alerts/{id}/cancel', { params: { path: { id } }, body }));
  announceAlertsChanged();
  return answer.alert as Alert;
}

/**
 * Pages and the alert bar refresh at once when one of them issues, approves or cancels
 * (the WebSocket carries deliveries, not alert state).
 */
const CHANGED = 'loa:alerts-changed';
export function announceAlertsChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}
export function onAlertsChanged(listener: () => void): () => void {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}

/** A plain fetch answered as the controller's problem on failure (for the XML routes). */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (!response.ok) {
    const text = await response.text();
    let problem: Problem;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = { detail: text || `HTTP ${response.status}` };
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

/** The alert as a CAP 1.2 document (XML text). */
export const fetchAlertCap = async (id: string) => (await send(`/alerts/${encodeURIComponent(id)}/cap`)).text();

/** One message of the CAP inbox (GET /cap/messages): what arrived, what the policy made of it. */
export type CapMessage = Json<paths['/cap/messages']['get']['responses'][200]>['items'][number];

export async function fetchCapMessages(outcome?: string): Promise<CapMessage[]> {
  const answer = await must(
    api.GET('/cap/messages', { params: { query: { limit: 200, ...(outcome ? { outcome } : {}) } } }),
  );
  return answer.items;
}

/** Takes a CAP 1.2 document in (POST /cap): what became of it. */
export async function postCap(xml: string): Promise<{ outcome: string; detail: string; alertId: string | null }> {
  const response = await send('/cap', {
    method: 'POST',
    headers: { 'content-type': 'application/cap+xml' },
    body: xml,
  });
  return (await response.json()) as { outcome: string; detail: string; alertId: string | null };
}
