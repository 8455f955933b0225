import type { paths } from '../api/schema';

export type Receiver = paths['/receivers/{id}']['get']['responses'][200]['content']['application/json'];

import type { Area } from '../api/areas.ts';

export type { Area };

/** What a technician sees first: dead, alive with a problem, alive and well, or switched off on purpose. */
export type ReceiverState = 'online' | 'offline' | 'fault' | 'disabled';

export function stateOf(receiver: Pick<Receiver, 'enabled' | 'online' | 'faults'>): ReceiverState {
  if (!receiver.enabled) return 'disabled';
  if (!receiver.online) return 'offline';
  return receiver.faults.length > 0 ? 'fault' : 'online';
}

/** Fill colours of the map circles (SVG attributes take no CSS variables); the legend names each. */
export const STATE_COLOUR: Record<ReceiverState, string> = {
  online: '#1b7a3d',
  fault: '#ef6c00',
  offline: '#b00020',
  disabled: '#8a96a3',
};

/** Below this a 3G/4G link drops packets and commands arrive late. */
export const WEAK_SIGNAL_DBM = -100;
/** Below this a receiver on battery may not last the night. */
export const LOW_BATTERY_PCT = 20;

/** The fields of the last telemetry report the fleet pages show, read defensively (the column is JSON). */
export interface TelemetryNow {
  at?: number;
  uptimeS?: number;
  mains?: boolean;
  batteryPct?: number;
  batteryV?: number;
  networkType?: string;
  rssiDbm?: number;
  operator?: string;
  volume?: number;
  amplifierOn?: boolean;
  speakerLineOhm?: number;
  temperatureC?: number;
  cacheBytesFree?: number;
  cacheAssets?: number;
  clockSynced?: boolean;
  clockOffsetMs?: number;
  playing?: { itemId: string; priority: string } | null;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const bool = (value: unknown) => (typeof value === 'boolean' ? value : undefined);
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function telemetryOf(receiver: Pick<Receiver, 'telemetry'>): TelemetryNow {
  const t = record(receiver.telemetry);
  const power = record(t.power);
  const network = record(t.network);
  const audio = record(t.audio);
  const cache = record(t.cache);
  const clock = record(t.clock);
  const playing = t.playing === null ? null : record(t.playing);
  return {
    at: num(t.at),
    uptimeS: num(t.uptimeS),
    mains: bool(power.mains),
    batteryPct: num(power.batteryPct),
    batteryV: num(power.batteryV),
    networkType: str(network.type),
    rssiDbm: num(network.rssiDbm),
    operator: str(network.operator),
    volume: num(audio.volume),
    amplifierOn: bool(audio.amplifierOn),
    speakerLineOhm: num(audio.speakerLineOhm),
    temperatureC: num(t.temperatureC),
    cacheBytesFree: num(cache.bytesFree),
    cacheAssets: num(cache.assets),
    clockSynced: bool(clock.synced),
    clockOffsetMs: num(clock.offsetMs),
    playing:
      playing === null
        ? null
        : str(playing.itemId)
          ? { itemId: str(playing.itemId) ?? '', priority: str(playing.priority) ?? '' }
          : undefined,
  };
}

export const weakSignal = (t: TelemetryNow) => t.rssiDbm !== undefined && t.rssiDbm < WEAK_SIGNAL_DBM;
export const lowBattery = (t: TelemetryNow) => t.batteryPct !== undefined && t.batteryPct < LOW_BATTERY_PCT;

/** "firmware · agent" as one version label, for the list and its filter. */
export function versionOf(receiver: Pick<Receiver, 'firmware' | 'agentVersion'>): string {
  return `${receiver.firmware ?? '—'} · ${receiver.agentVersion ?? '—'}`;
}

/** Village code → the codes above it (itself included), from the areas the user may see. */
export function ancestry(areas: ReadonlyMap<string, Area>, code: string): string[] {
  const chain: string[] = [];
  let current: string | null | undefined = code;
  while (current && !chain.includes(current)) {
    chain.push(current);
    current = areas.get(current)?.parentCode;
  }
  return chain;
}

/** An area's outline (GeoJSON Polygon or MultiPolygon), when the controller stores one and sent it. */
export function boundaryOf(area: Area): GeoJSON.Geometry | null {
  return area.boundary ?? null;
}
