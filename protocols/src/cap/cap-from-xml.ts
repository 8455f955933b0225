import { parseCircle, parseDecimal, parsePolygon } from './cap-geometry.js';
import type { CapIssues } from './cap-issue.js';
import {
  CAP_DEFAULT_LANGUAGE,
  CAP_NAMESPACE,
  type CapAlert,
  type CapArea,
  type CapInfo,
  type CapReference,
  type CapResource,
  type CapValuePair,
} from './cap-model.js';
import type { XmlElement } from './safe-xml.js';

/**
 * Turns an `<alert>` element tree into the model, reporting what the XSD's structure
 * forbids: unknown CAP elements, missing required ones, repeats of single ones, text
 * where elements belong and syntax that cannot be represented (coordinates, numbers).
 * Values are checked afterwards on the model (cap-rules.ts), so parser and writer share
 * those rules. Child order is not enforced: senders often get it wrong and it carries
 * no meaning. Elements in other namespaces (signatures, extensions) are skipped.
 */
interface Child {
  required: boolean;
  many: boolean;
  spec?: Spec;
}
type Spec = Record<string, Child>;

const one = (spec?: Spec): Child => ({ required: true, many: false, spec });
const opt = (): Child => ({ required: false, many: false });
const many = (spec?: Spec, required = false): Child => ({ required, many: true, spec });

const VALUE_PAIR: Spec = { valueName: one(), value: one() };
const RESOURCE: Spec = {
  resourceDesc: one(),
  mimeType: one(),
  size: opt(),
  uri: opt(),
  derefUri: opt(),
  digest: opt(),
};
const AREA: Spec = {
  areaDesc: one(),
  polygon: many(),
  circle: many(),
  geocode: many(VALUE_PAIR),
  altitude: opt(),
  ceiling: opt(),
};
const INFO: Spec = {
  language: opt(),
  category: many(undefined, true),
  event: one(),
  responseType: many(),
  urgency: one(),
  severity: one(),
  certainty: one(),
  audience: opt(),
  eventCode: many(VALUE_PAIR),
  effective: opt(),
  onset: opt(),
  expires: opt(),
  senderName: opt(),
  headline: opt(),
  description: opt(),
  instruction: opt(),
  web: opt(),
  contact: opt(),
  parameter: many(VALUE_PAIR),
  resource: many(RESOURCE),
  area: many(AREA),
};
const ALERT: Spec = {
  identifier: one(),
  sender: one(),
  sent: one(),
  status: one(),
  msgType: one(),
  source: opt(),
  scope: one(),
  restriction: opt(),
  addresses: opt(),
  code: many(),
  note: opt(),
  references: opt(),
  incidents: opt(),
  info: many(INFO),
};

/** One CAP element with its children sorted by name and checked against its spec. */
class Node {
  private readonly byName = new Map<string, XmlElement[]>();

  constructor(
    el: XmlElement,
    readonly path: string,
    private readonly spec: Spec,
    private readonly issues: CapIssues,
  ) {
    if (el.text.trim() !== '') issues.add(path, 'structure', 'has text outside its child elements');
    for (const child of el.children) {
      if (child.uri !== CAP_NAMESPACE) continue;
      if (!Object.hasOwn(spec, child.local)) {
        issues.add(`${path}/${child.local}`, 'unknown_element', `<${child.local}> is not a CAP 1.2 element here`);
        continue;
      }
      const list = this.byName.get(child.local) ?? [];
      list.push(child);
      this.byName.set(child.local, list);
    }
    for (const [name, rule] of Object.entries(spec)) {
      const count = this.byName.get(name)?.length ?? 0;
      if (rule.required && count === 0)
        issues.add(`${path}/${name}`, 'required', rule.many ? 'at least one is required' : 'is required');
      if (!rule.many && count > 1) issues.add(`${path}/${name}`, 'duplicate', `appears ${count} times; CAP allows one`);
    }
  }

  private childPath(name: string, index: number): string {
    return this.spec[name]?.many ? `${this.path}/${name}[${index}]` : `${this.path}/${name}`;
  }

  /** Trimmed text of each `name` child; a simple element must hold no CAP elements. */
  texts(name: string): string[] {
    return (this.byName.get(name) ?? []).map((el, i) => {
      if (el.children.some((c) => c.uri === CAP_NAMESPACE))
        this.issues.add(this.childPath(name, i), 'structure', 'must contain text only, not elements');
      return el.text.trim();
    });
  }

  optional(name: string): string | undefined {
    return this.texts(name)[0];
  }

  /** A required value; '' when missing (already reported). */
  text(name: string): string {
    return this.optional(name) ?? '';
  }

  /** Each `name` child as a Node, for complex elements. */
  nodes(name: string): Node[] {
    const spec = this.spec[name]?.spec ?? {};
    return (this.byName.get(name) ?? []).map((el, i) => new Node(el, this.childPath(name, i), spec, this.issues));
  }

  /** Parses each text with `read`; a failure is reported and replaced by `fallback`, keeping indexes aligned. */
  parsed<T>(name: string, read: (text: string) => T | string, fallback: () => T): T[] {
    return this.texts(name).map((text, i) => {
      const value = read(text);
      if (typeof value !== 'string') return value;
      this.issues.add(this.childPath(name, i), 'format', value);
      return fallback();
    });
  }

  number(name: string, read: (text: string) => number | undefined, what: string): number | undefined {
    const text = this.optional(name);
    if (text === undefined) return undefined;
    const n = read(text);
    if (n === undefined) this.issues.add(this.childPath(name, 0), 'format', `'${text}' is not ${what}`);
    return n ?? Number.NaN;
  }
}

/** Drops absent optional fields, so a parsed model equals the one that was written. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

const readInteger = (text: string) => (/^\+?\d+$/.test(text) ? Number(text) : undefined);

/** "sender,identifier,sent" triples separated by whitespace. */
function parseReferences(text: string): CapReference[] | string {
  const refs: CapReference[] = [];
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const [sender, identifier, sent, ...rest] = token.split(',');
    if (!sender || !identifier || !sent || rest.length > 0) return `'${token}' is not "sender,identifier,sent"`;
    refs.push({ sender, identifier, sent });
  }
  return refs;
}

function valuePairs(node: Node, name: string): CapValuePair[] {
  return node.nodes(name).map((n) => ({ valueName: n.text('valueName'), value: n.text('value') }));
}

function resource(node: Node): CapResource {
  return compact({
    resourceDesc: node.text('resourceDesc'),
    mimeType: node.text('mimeType'),
    size: node.number('size', readInteger, 'a whole number of bytes'),
    uri: node.optional('uri'),
    derefUri: node.optional('derefUri'),
    digest: node.optional('digest'),
  });
}

function area(node: Node): CapArea {
  return compact({
    areaDesc: node.text('areaDesc'),
    polygon: node.parsed('polygon', parsePolygon, () => []),
    circle: node.parsed('circle', parseCircle, () => ({ lat: Number.NaN, lon: Number.NaN, radiusKm: Number.NaN })),
    geocode: valuePairs(node, 'geocode'),
    altitude: node.number('altitude', parseDecimal, 'a decimal number of feet'),
    ceiling: node.number('ceiling', parseDecimal, 'a decimal number of feet'),
  });
}

// Enumerations are cast here and checked by the rules, on the model.
function info(node: Node): CapInfo {
  return compact({
    language: node.optional('language') ?? CAP_DEFAULT_LANGUAGE,
    category: node.texts('category') as CapInfo['category'],
    event: node.text('event'),
    responseType: node.texts('responseType') as CapInfo['responseType'],
    urgency: node.text('urgency') as CapInfo['urgency'],
    severity: node.text('severity') as CapInfo['severity'],
    certainty: node.text('certainty') as CapInfo['certainty'],
    audience: node.optional('audience'),
    eventCode: valuePairs(node, 'eventCode'),
    effective: node.optional('effective'),
    onset: node.optional('onset'),
    expires: node.optional('expires'),
    senderName: node.optional('senderName'),
    headline: node.optional('headline'),
    description: node.optional('description'),
    instruction: node.optional('instruction'),
    web: node.optional('web'),
    contact: node.optional('contact'),
    parameter: valuePairs(node, 'parameter'),
    resource: node.nodes('resource').map(resource),
    area: node.nodes('area').map(area),
  });
}

/** The model of an `<alert>` (namespace already checked), with structural issues added to `issues`. */
export function capAlertFromXml(el: XmlElement, path: string, issues: CapIssues): CapAlert {
  const node = new Node(el, path, ALERT, issues);
  return compact({
    identifier: node.text('identifier'),
    sender: node.text('sender'),
    sent: node.text('sent'),
    status: node.text('status') as CapAlert['status'],
    msgType: node.text('msgType') as CapAlert['msgType'],
    source: node.optional('source'),
    scope: node.text('scope') as CapAlert['scope'],
    restriction: node.optional('restriction'),
    addresses: node.optional('addresses'),
    code: node.texts('code'),
    note: node.optional('note'),
    references: node.parsed('references', parseReferences, () => [])[0] ?? [],
    incidents: node.optional('incidents'),
    info: node.nodes('info').map(info),
  });
}
