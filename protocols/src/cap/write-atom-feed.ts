import { create } from 'xmlbuilder2';
import { ATOM_MEDIA_TYPE, ATOM_NAMESPACE, type AtomFeedInput, CAP_MEDIA_TYPE, isAtomDate } from './atom-feed.js';
import { CapIssues } from './cap-issue.js';
import { appendCapAlert, assertValidCap, CapWriteError, endXml } from './write-cap.js';

function check(input: AtomFeedInput): void {
  const issues = new CapIssues();
  const header = (path: string, v: { id: string; title: string; updated: string }) => {
    if (!URL.canParse(v.id)) issues.add(`${path}/id`, 'format', `'${v.id}' is not an absolute IRI`);
    if (v.title.trim() === '') issues.add(`${path}/title`, 'required', 'must not be empty');
    if (!isAtomDate(v.updated)) issues.add(`${path}/updated`, 'format', `'${v.updated}' is not an RFC 3339 date-time`);
  };
  header('feed', input);
  if (input.selfHref.trim() === '') issues.add('feed/link', 'required', 'selfHref must not be empty');
  if (input.author.name.trim() === '') issues.add('feed/author/name', 'required', 'must not be empty');
  input.entries.forEach((entry, i) => {
    header(`feed/entry[${i}]`, entry);
    if (entry.capHref.trim() === '') issues.add(`feed/entry[${i}]/link`, 'required', 'capHref must not be empty');
  });
  if (issues.list.length > 0) throw new CapWriteError(issues.list);
  input.entries.forEach((entry, i) => {
    if (entry.alert) assertValidCap(entry.alert, `feed/entry[${i}]/content/alert`);
  });
}

/**
 * Writes an Atom feed of CAP alerts: each entry links to its CAP document
 * (rel="alternate", type="application/cap+xml") and, when given the alert, also embeds it
 * in `<content type="application/cap+xml">`. Throws CapWriteError for invalid input.
 */
export function writeAtomFeed(input: AtomFeedInput): string {
  check(input);
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const feed = doc.ele(ATOM_NAMESPACE, 'feed');
  feed.ele('id').txt(input.id);
  feed.ele('title').txt(input.title);
  feed.ele('updated').txt(input.updated);
  const author = feed.ele('author');
  author.ele('name').txt(input.author.name);
  if (input.author.uri !== undefined) author.ele('uri').txt(input.author.uri);
  if (input.author.email !== undefined) author.ele('email').txt(input.author.email);
  feed.ele('link', { rel: 'self', type: ATOM_MEDIA_TYPE, href: input.selfHref });
  for (const entry of input.entries) {
    const el = feed.ele('entry');
    el.ele('id').txt(entry.id);
    el.ele('title').txt(entry.title);
    el.ele('updated').txt(entry.updated);
    if (entry.summary !== undefined) el.ele('summary').txt(entry.summary);
    el.ele('link', { rel: 'alternate', type: CAP_MEDIA_TYPE, href: entry.capHref });
    if (entry.alert) appendCapAlert(el.ele('content', { type: CAP_MEDIA_TYPE }), entry.alert);
  }
  return endXml(doc, 'feed');
}
