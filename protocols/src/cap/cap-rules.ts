import { capDateTimeProblem } from './cap-datetime.js';
import { type CapIssue, CapIssues } from './cap-issue.js';
import {
  CAP_CATEGORIES,
  CAP_CERTAINTIES,
  CAP_MSG_TYPES,
  CAP_RESPONSE_TYPES,
  CAP_SCOPES,
  CAP_SEVERITIES,
  CAP_STATUSES,
  CAP_URGENCIES,
  type CapAlert,
  type CapArea,
  type CapInfo,
  type CapPoint,
  type CapResource,
  type CapValuePair,
} from './cap-model.js';

/**
 * The CAP 1.2 rules on values, checked on the model so that what we parse and what we
 * write obey the same rules. Paths name the XML element (`alert/info[0]/area[1]/polygon[0]`).
 */
export function validateCapAlert(alert: CapAlert, path = 'alert'): CapIssue[] {
  const issues = new CapIssues();
  new Rules(issues).alert(alert, path);
  return issues.list;
}

const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/; // xs:language (RFC 3066)
const MIME_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

class Rules {
  constructor(private readonly issues: CapIssues) {}

  private required(value: string | undefined, path: string): value is string {
    if (value === undefined || value.trim() === '') {
      this.issues.add(path, 'required', 'must not be empty');
      return false;
    }
    return true;
  }

  private oneOf(value: string, allowed: readonly string[], path: string): void {
    if (this.required(value, path) && !allowed.includes(value))
      this.issues.add(path, 'enum', `'${value}' is not one of ${allowed.join(', ')}`);
  }

  /** identifier and sender: CAP forbids spaces, commas and the XML-restricted < and &. */
  private token(value: string, path: string): void {
    if (this.required(value, path) && /[\s,<&]/.test(value))
      this.issues.add(path, 'format', `'${value}' must not contain spaces, commas, < or &`);
  }

  private dateTime(value: string | undefined, path: string): void {
    if (value === undefined || !this.required(value, path)) return;
    const problem = capDateTimeProblem(value);
    if (problem) this.issues.add(path, 'format', problem);
  }

  private absoluteUri(value: string | undefined, path: string): void {
    if (value !== undefined && !URL.canParse(value))
      this.issues.add(path, 'format', `'${value}' is not an absolute URI`);
  }

  private valuePairs(pairs: readonly CapValuePair[], path: string): void {
    for (const [i, pair] of pairs.entries()) this.required(pair.valueName, `${path}[${i}]/valueName`);
  }

  alert(alert: CapAlert, path: string): void {
    this.token(alert.identifier, `${path}/identifier`);
    this.token(alert.sender, `${path}/sender`);
    this.dateTime(alert.sent, `${path}/sent`);
    this.oneOf(alert.status, CAP_STATUSES, `${path}/status`);
    this.oneOf(alert.msgType, CAP_MSG_TYPES, `${path}/msgType`);
    this.oneOf(alert.scope, CAP_SCOPES, `${path}/scope`);
    if (alert.scope === 'Restricted' && !alert.restriction?.trim())
      this.issues.add(`${path}/restriction`, 'required', "is required when scope is 'Restricted'");
    if (alert.scope === 'Private' && !alert.addresses?.trim())
      this.issues.add(`${path}/addresses`, 'required', "is required when scope is 'Private'");
    for (const [i, ref] of alert.references.entries()) {
      const where = `${path}/references`;
      const bad = (what: string) => this.issues.add(where, 'format', `reference ${i + 1}: ${what}`);
      if (!ref.sender || /[\s,<&]/.test(ref.sender)) bad(`sender '${ref.sender}' is not a CAP sender`);
      if (!ref.identifier || /[\s,<&]/.test(ref.identifier))
        bad(`identifier '${ref.identifier}' is not a CAP identifier`);
      const problem = capDateTimeProblem(ref.sent);
      if (problem) bad(`sent ${problem}`);
    }
    for (const [i, info] of alert.info.entries()) this.info(info, `${path}/info[${i}]`);
  }

  private info(info: CapInfo, path: string): void {
    if (this.required(info.language, `${path}/language`) && !LANGUAGE.test(info.language))
      this.issues.add(`${path}/language`, 'format', `'${info.language}' is not a language tag like en-US or vi`);
    if (info.category.length === 0) this.issues.add(`${path}/category`, 'required', 'at least one is required');
    for (const [i, c] of info.category.entries()) this.oneOf(c, CAP_CATEGORIES, `${path}/category[${i}]`);
    this.required(info.event, `${path}/event`);
    for (const [i, r] of info.responseType.entries()) this.oneOf(r, CAP_RESPONSE_TYPES, `${path}/responseType[${i}]`);
    this.oneOf(info.urgency, CAP_URGENCIES, `${path}/urgency`);
    this.oneOf(info.severity, CAP_SEVERITIES, `${path}/severity`);
    this.oneOf(info.certainty, CAP_CERTAINTIES, `${path}/certainty`);
    this.valuePairs(info.eventCode, `${path}/eventCode`);
    this.dateTime(info.effective, `${path}/effective`);
    this.dateTime(info.onset, `${path}/onset`);
    this.dateTime(info.expires, `${path}/expires`);
    this.absoluteUri(info.web, `${path}/web`);
    this.valuePairs(info.parameter, `${path}/parameter`);
    for (const [i, r] of info.resource.entries()) this.resource(r, `${path}/resource[${i}]`);
    for (const [i, a] of info.area.entries()) this.area(a, `${path}/area[${i}]`);
  }

  private resource(resource: CapResource, path: string): void {
    this.required(resource.resourceDesc, `${path}/resourceDesc`);
    if (this.required(resource.mimeType, `${path}/mimeType`) && !MIME_TYPE.test(resource.mimeType))
      this.issues.add(`${path}/mimeType`, 'format', `'${resource.mimeType}' is not a MIME type like image/png`);
    if (resource.size !== undefined && !(Number.isSafeInteger(resource.size) && resource.size >= 0))
      this.issues.add(`${path}/size`, 'range', 'must be a whole number of bytes');
    // A relative uri is allowed only to name the content carried in derefUri.
    if (resource.derefUri === undefined) this.absoluteUri(resource.uri, `${path}/uri`);
    else if (!BASE64.test(resource.derefUri)) this.issues.add(`${path}/derefUri`, 'format', 'is not base64 data');
  }

  private area(area: CapArea, path: string): void {
    this.required(area.areaDesc, `${path}/areaDesc`);
    for (const [i, ring] of area.polygon.entries()) this.ring(ring, `${path}/polygon[${i}]`);
    for (const [i, circle] of area.circle.entries()) {
      const where = `${path}/circle[${i}]`;
      this.point(circle.lat, circle.lon, where, 'centre');
      if (!(Number.isFinite(circle.radiusKm) && circle.radiusKm >= 0))
        this.issues.add(where, 'range', 'radius must be a number of km, 0 or more');
    }
    this.valuePairs(area.geocode, `${path}/geocode`);
    for (const key of ['altitude', 'ceiling'] as const) {
      const value = area[key];
      if (value !== undefined && !Number.isFinite(value))
        this.issues.add(`${path}/${key}`, 'range', 'must be a number of feet');
    }
    if (area.ceiling !== undefined && area.altitude === undefined)
      this.issues.add(`${path}/ceiling`, 'structure', 'may only be given together with altitude');
  }

  private ring(ring: readonly CapPoint[], path: string): void {
    if (ring.length < 4) {
      this.issues.add(path, 'format', `has ${ring.length} points; at least 4 are required`);
      return;
    }
    const [first, last] = [ring[0], ring[ring.length - 1]];
    if (first?.[0] !== last?.[0] || first?.[1] !== last?.[1])
      this.issues.add(path, 'format', 'is not closed: the first and last points must be the same');
    for (const [k, [lat, lon]] of ring.entries()) this.point(lat, lon, path, `point ${k + 1}`);
  }

  private point(lat: number, lon: number, path: string, what: string): void {
    if (!(lat >= -90 && lat <= 90)) this.issues.add(path, 'range', `${what}: latitude ${lat} is outside -90..90`);
    if (!(lon >= -180 && lon <= 180)) this.issues.add(path, 'range', `${what}: longitude ${lon} is outside -180..180`);
  }
}
