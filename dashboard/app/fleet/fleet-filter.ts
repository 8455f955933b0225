import {
  type Area,
  ancestry,
  lowBattery,
  type Receiver,
  stateOf,
  telemetryOf,
  versionOf,
  weakSignal,
} from './receiver-view.ts';

/** The receiver page's "back" link returns to the list as it was filtered (sessionStorage). */
export const FLEET_SEARCH_KEY = 'loa.fleet.search';

/** The list's filters; kept in the URL (?area=02680&state=offline…) so a view can be shared or reloaded. */
export interface FleetFilter {
  area: string;
  state: '' | 'online' | 'offline';
  faults: boolean;
  weak: boolean;
  lowBattery: boolean;
  version: string;
  text: string;
}

export function filterFromParams(params: URLSearchParams): FleetFilter {
  const state = params.get('state');
  return {
    area: params.get('area') ?? '',
    state: state === 'online' || state === 'offline' ? state : '',
    faults: params.get('faults') === '1',
    weak: params.get('weak') === '1',
    lowBattery: params.get('battery') === 'low',
    version: params.get('version') ?? '',
    text: params.get('q') ?? '',
  };
}

export function filterToParams(filter: FleetFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.area) params.set('area', filter.area);
  if (filter.state) params.set('state', filter.state);
  if (filter.faults) params.set('faults', '1');
  if (filter.weak) params.set('weak', '1');
  if (filter.lowBattery) params.set('battery', 'low');
  if (filter.version) params.set('version', filter.version);
  if (filter.text) params.set('q', filter.text);
  return params;
}

/** Lower case without Vietnamese diacritics, so "lao chai" finds "Lao Chải" typed on any keyboard. */
export function folded(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();
}

/** Receivers in the chosen area matching the text: what the counts at the top count. */
export function inView(receivers: readonly Receiver[], areas: ReadonlyMap<string, Area>, filter: FleetFilter) {
  const words = folded(filter.text).split(/\s+/).filter(Boolean);
  return receivers.filter((r) => {
    if (filter.area && !ancestry(areas, r.villageCode).includes(filter.area)) return false;
    if (words.length === 0) return true;
    const haystack = folded(`${r.name} ${r.id} ${areas.get(r.villageCode)?.name ?? ''}`);
    return words.every((w) => haystack.includes(w));
  });
}

/** The rest of the filters, on what `inView` kept. */
export function matches(receiver: Receiver, filter: FleetFilter): boolean {
  if (filter.state === 'online' && !receiver.online) return false;
  if (filter.state === 'offline' && receiver.online) return false;
  if (filter.faults && receiver.faults.length === 0) return false;
  const telemetry = telemetryOf(receiver);
  if (filter.weak && !weakSignal(telemetry)) return false;
  if (filter.lowBattery && !lowBattery(telemetry)) return false;
  if (filter.version && versionOf(receiver) !== filter.version) return false;
  return true;
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  faults: number;
}

export function countOf(receivers: readonly Receiver[]): FleetCounts {
  const counts = { total: receivers.length, online: 0, offline: 0, faults: 0 };
  for (const r of receivers) {
    if (r.online) counts.online++;
    else counts.offline++;
    if (r.faults.length > 0) counts.faults++;
  }
  return counts;
}

/** Problems first (offline, then faults), then by id: what needs a visit is at the top. */
export function byUrgency(a: Receiver, b: Receiver): number {
  const rank = { offline: 0, fault: 1, online: 2, disabled: 3 };
  return rank[stateOf(a)] - rank[stateOf(b)] || a.id.localeCompare(b.id);
}
