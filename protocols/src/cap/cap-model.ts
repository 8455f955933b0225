/**
 * OASIS Common Alerting Protocol 1.2 as plain data. Field names are CAP's element names;
 * repeatable elements are arrays (empty when absent), optional ones are left out when
 * absent. Dates stay the strings CAP wrote ("2003-06-17T14:57:00-07:00"), so the sender's
 * offset survives a round trip; `parseCapDateTime` turns one into epoch milliseconds.
 */
export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** Namespaces of older CAP versions, named so a refusal can say which version it saw. */
const CAP_OLD_NAMESPACES: ReadonlyMap<string, string> = new Map([
  ['urn:oasis:names:tc:emergency:cap:1.1', 'CAP 1.1'],
  ['http://www.incident.com/cap/1.0', 'CAP 1.0'],
]);

/** 'CAP 1.1' or 'CAP 1.0' for their namespaces, else undefined. */
export function oldCapVersion(namespace: string): string | undefined {
  return CAP_OLD_NAMESPACES.get(namespace);
}

export const CAP_STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPES = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORIES = [
  'Geo',
  'Met',
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'CBRNE',
  'Other',
] as const;
export const CAP_RESPONSE_TYPES = [
  'Shelter',
  'Evacuate',
  'Prepare',
  'Execute',
  'Avoid',
  'Monitor',
  'Assess',
  'AllClear',
  'None',
] as const;
export const CAP_URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const CAP_SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUSES)[number];
export type CapMsgType = (typeof CAP_MSG_TYPES)[number];
export type CapScope = (typeof CAP_SCOPES)[number];
export type CapCategory = (typeof CAP_CATEGORIES)[number];
export type CapResponseType = (typeof CAP_RESPONSE_TYPES)[number];
export type CapUrgency = (typeof CAP_URGENCIES)[number];
export type CapSeverity = (typeof CAP_SEVERITIES)[number];
export type CapCertainty = (typeof CAP_CERTAINTIES)[number];

/** When an info block names no language, CAP says it is en-US. */
export const CAP_DEFAULT_LANGUAGE = 'en-US';

/** One entry of `<references>`: the earlier message this one updates, cancels or answers. */
export interface CapReference {
  sender: string;
  identifier: string;
  sent: string;
}

/** `<eventCode>`, `<parameter>` and `<geocode>`. */
export interface CapValuePair {
  valueName: string;
  value: string;
}

/** WGS 84 latitude and longitude, in CAP's order. */
export type CapPoint = [lat: number, lon: number];

export interface CapCircle {
  lat: number;
  lon: number;
  radiusKm: number;
}

export interface CapArea {
  areaDesc: string;
  /** Each polygon is a closed ring: at least 4 points, the first repeated last. */
  polygon: CapPoint[][];
  circle: CapCircle[];
  geocode: CapValuePair[];
  /** Feet above mean sea level. */
  altitude?: number;
  ceiling?: number;
}

export interface CapResource {
  resourceDesc: string;
  mimeType: string;
  /** Bytes. */
  size?: number;
  uri?: string;
  /** The resource itself, base64. */
  derefUri?: string;
  /** SHA-1 of the resource. */
  digest?: string;
}

export interface CapInfo {
  language: string;
  category: CapCategory[];
  event: string;
  responseType: CapResponseType[];
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  audience?: string;
  eventCode: CapValuePair[];
  effective?: string;
  onset?: string;
  expires?: string;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  web?: string;
  contact?: string;
  parameter: CapValuePair[];
  resource: CapResource[];
  area: CapArea[];
}

export interface CapAlert {
  identifier: string;
  sender: string;
  sent: string;
  status: CapStatus;
  msgType: CapMsgType;
  source?: string;
  scope: CapScope;
  restriction?: string;
  /** Space-separated; an address with spaces is in double quotes (see `splitCapList`). */
  addresses?: string;
  code: string[];
  note?: string;
  references: CapReference[];
  /** Space-separated like `addresses`. */
  incidents?: string;
  info: CapInfo[];
}

/**
 * Splits CAP's space-delimited lists (`addresses`, `incidents`), where an item that
 * contains spaces is written in double quotes.
 */
export function splitCapList(value: string): string[] {
  return [...value.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').filter((s) => s !== '');
}
