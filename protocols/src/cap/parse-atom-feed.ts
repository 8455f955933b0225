import { ATOM_NAMESPACE, type AtomEntry, type AtomFeed, type AtomLink, isAtomDate } from './atom-feed.js';
import { type CapIssue, CapIssues, capIssue } from './cap-issue.js';
import { CAP_NAMESPACE, type CapAlert, oldCapVersion } from './cap-model.js';
import { type CapParseOptions, capAlertFromElement, capLimits } from './parse-cap.js';
import { parseSafeXml, textContent, type XmlElement } from './safe-xml.js';

export type AtomParseResult = { ok: true; feed: AtomFeed } | { ok: false; errors: CapIssue[] };

/** A feed may carry many alerts inline, so its default size limit is larger than one alert's. */
export const ATOM_MAX_BYTES = 1024 * 1024;

function atomChildren(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.uri === ATOM_NAMESPACE && c.local === local);
}

/** An Atom text construct: plain text as is, html as its (escaped) markup, xhtml as its text. */
function atomText(el: XmlElement): string {
  return (el.attributes.type === 'xhtml' ? textContent(el) : el.text).trim();
}

function single(el: XmlElement, local: string, path: string, issues: CapIssues): XmlElement | undefined {
  const found = atomChildren(el, local);
  if (found.length === 0) issues.add(`${path}/${local}`, 'required', 'is required');
  if (found.length > 1) issues.add(`${path}/${local}`, 'duplicate', `appears ${found.length} times; Atom allows one`);
  return found[0];
}

function header(el: XmlElement, path: string, issues: CapIssues): { id: string; title: string; updated: string } {
  const text = (local: string) => {
    const child = single(el, local, path, issues);
    const value = child ? atomText(child) : '';
    if (child && value === '') issues.add(`${path}/${local}`, 'required', 'must not be empty');
    return value;
  };
  const [id, title, updated] = [text('id'), text('title'), text('updated')];
  if (updated !== '' && !isAtomDate(updated))
    issues.add(`${path}/updated`, 'format', `'${updated}' is not an RFC 3339 date-time`);
  return { id, title, updated };
}

function links(el: XmlElement, path: string, issues: CapIssues): AtomLink[] {
  return atomChildren(el, 'link').map((link, i) => {
    const { href, rel, type } = link.attributes;
    if (!href) issues.add(`${path}/link[${i}]`, 'required', 'has no href');
    const out: AtomLink = { href: href ?? '' };
    if (rel !== undefined) out.rel = rel;
    if (type !== undefined) out.type = type;
    return out;
  });
}

function entry(el: XmlElement, path: string, issues: CapIssues): AtomEntry {
  const alerts: CapAlert[] = [];
  const alertErrors: CapIssue[] = [];
  for (const content of atomChildren(el, 'content')) {
    const embedded = content.children.filter(
      (c) => c.local === 'alert' && (c.uri === CAP_NAMESPACE || oldCapVersion(c.uri) !== undefined),
    );
    embedded.forEach((alertEl, i) => {
      const result = capAlertFromElement(alertEl, `${path}/content/alert${embedded.length > 1 ? `[${i}]` : ''}`);
      if (result.ok) alerts.push(result.alert);
      else alertErrors.push(...result.errors);
    });
  }
  const out: AtomEntry = { ...header(el, path, issues), links: links(el, path, issues), alerts, alertErrors };
  const summary = atomChildren(el, 'summary')[0];
  if (summary) out.summary = atomText(summary);
  return out;
}

/**
 * Parses an Atom feed with the same defences as parseCap (default limit 1 MiB). Returns
 * the entries with their links and any CAP 1.2 alerts embedded in their content. Never
 * throws. Hrefs are returned as written (xml:base is not applied).
 */
export function parseAtomFeed(xml: string | Uint8Array, options?: CapParseOptions): AtomParseResult {
  const limits = capLimits({ maxElements: 50_000, ...options }, ATOM_MAX_BYTES);
  const parsed = parseSafeXml(xml, limits, (root) => {
    if (root.local === 'feed' && root.uri === ATOM_NAMESPACE) return undefined;
    if (root.uri === CAP_NAMESPACE) return capIssue(root.local, 'wrong_root', 'this is a CAP alert, not an Atom feed');
    const ns = root.uri ? `in ${root.uri}` : 'with no namespace';
    return capIssue(root.local, 'wrong_root', `expected <feed> in ${ATOM_NAMESPACE}, found <${root.local}> ${ns}`);
  });
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const issues = new CapIssues();
  const root = parsed.root;
  const feed: AtomFeed = {
    ...header(root, 'feed', issues),
    links: links(root, 'feed', issues),
    entries: atomChildren(root, 'entry').map((e, i) => entry(e, `feed/entry[${i}]`, issues)),
  };
  return issues.list.length === 0 ? { ok: true, feed } : { ok: false, errors: issues.list };
}
