import { create } from 'xmlbuilder2';
import { formatCircle, formatDecimal, formatPolygon } from './cap-geometry.js';
import { type CapIssue, capIssue } from './cap-issue.js';
import { CAP_NAMESPACE, type CapAlert, type CapArea, type CapInfo, type CapValuePair } from './cap-model.js';
import { validateCapAlert } from './cap-rules.js';

type Builder = ReturnType<typeof create>;

/** Thrown by the writers for a model that breaks CAP's rules: we never emit CAP we would refuse. */
export class CapWriteError extends Error {
  constructor(readonly issues: CapIssue[]) {
    super(`invalid CAP alert: ${issues.map((i) => i.message).join('; ')}`);
    this.name = 'CapWriteError';
  }
}

function leaf(parent: Builder, name: string, value: string | number | undefined): void {
  if (value !== undefined) parent.ele(name).txt(typeof value === 'number' ? formatDecimal(value) : value);
}

function pairs(parent: Builder, name: string, list: readonly CapValuePair[]): void {
  for (const pair of list) {
    const el = parent.ele(name);
    leaf(el, 'valueName', pair.valueName);
    leaf(el, 'value', pair.value);
  }
}

function area(parent: Builder, a: CapArea): void {
  const el = parent.ele('area');
  leaf(el, 'areaDesc', a.areaDesc);
  for (const ring of a.polygon) leaf(el, 'polygon', formatPolygon(ring));
  for (const circle of a.circle) leaf(el, 'circle', formatCircle(circle));
  pairs(el, 'geocode', a.geocode);
  leaf(el, 'altitude', a.altitude);
  leaf(el, 'ceiling', a.ceiling);
}

const TEXTS_AFTER_EVENT_CODE = [
  'effective',
  'onset',
  'expires',
  'senderName',
  'headline',
  'description',
  'instruction',
  'web',
  'contact',
] as const;

function info(parent: Builder, i: CapInfo): void {
  const el = parent.ele('info');
  leaf(el, 'language', i.language);
  for (const c of i.category) leaf(el, 'category', c);
  leaf(el, 'event', i.event);
  for (const r of i.responseType) leaf(el, 'responseType', r);
  leaf(el, 'urgency', i.urgency);
  leaf(el, 'severity', i.severity);
  leaf(el, 'certainty', i.certainty);
  leaf(el, 'audience', i.audience);
  pairs(el, 'eventCode', i.eventCode);
  for (const key of TEXTS_AFTER_EVENT_CODE) leaf(el, key, i[key]);
  pairs(el, 'parameter', i.parameter);
  for (const r of i.resource) {
    const res = el.ele('resource');
    leaf(res, 'resourceDesc', r.resourceDesc);
    leaf(res, 'mimeType', r.mimeType);
    if (r.size !== undefined) leaf(res, 'size', String(r.size));
    leaf(res, 'uri', r.uri);
    leaf(res, 'derefUri', r.derefUri);
    leaf(res, 'digest', r.digest);
  }
  for (const a of i.area) area(el, a);
}

/** Appends `<alert>` in the CAP 1.2 namespace to `parent`, children in the XSD's order. */
export function appendCapAlert(parent: Builder, alert: CapAlert): void {
  const el = parent.ele(CAP_NAMESPACE, 'alert');
  for (const key of ['identifier', 'sender', 'sent', 'status', 'msgType', 'source', 'scope'] as const)
    leaf(el, key, alert[key]);
  leaf(el, 'restriction', alert.restriction);
  leaf(el, 'addresses', alert.addresses);
  for (const code of alert.code) leaf(el, 'code', code);
  leaf(el, 'note', alert.note);
  if (alert.references.length > 0)
    leaf(el, 'references', alert.references.map((r) => `${r.sender},${r.identifier},${r.sent}`).join(' '));
  leaf(el, 'incidents', alert.incidents);
  for (const i of alert.info) info(el, i);
}

/** Throws CapWriteError if the alert breaks a CAP rule. */
export function assertValidCap(alert: CapAlert, path = 'alert'): void {
  const issues = validateCapAlert(alert, path);
  if (issues.length > 0) throw new CapWriteError(issues);
}

/** Ends a document, refusing text XML cannot carry (control characters, lone surrogates). */
export function endXml(doc: Builder, path: string): string {
  try {
    return doc.end({ prettyPrint: true, wellFormed: true });
  } catch {
    throw new CapWriteError([capIssue(path, 'format', 'contains characters that XML cannot carry')]);
  }
}

/**
 * Serialises an alert as a CAP 1.2 document (UTF-8, elements in the XSD's order, text
 * escaped). Throws CapWriteError for an alert that parseCap would refuse.
 */
export function writeCap(alert: CapAlert): string {
  assertValidCap(alert);
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  appendCapAlert(doc, alert);
  return endXml(doc, 'alert');
}
