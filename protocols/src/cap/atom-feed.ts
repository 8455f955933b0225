import type { CapIssue } from './cap-issue.js';
import type { CapAlert } from './cap-model.js';

/**
 * Atom (RFC 4287) as used to publish CAP: a feed whose entries link to CAP documents
 * (`type="application/cap+xml"`), or carry them inline in `<content>`.
 */
export const ATOM_NAMESPACE = 'http://www.w3.org/2005/Atom';
export const CAP_MEDIA_TYPE = 'application/cap+xml';
export const ATOM_MEDIA_TYPE = 'application/atom+xml';

export interface AtomLink {
  href: string;
  rel?: string;
  type?: string;
}

export interface AtomEntry {
  id: string;
  title: string;
  updated: string;
  summary?: string;
  links: AtomLink[];
  /** CAP 1.2 alerts embedded in `<content>`, valid ones only. */
  alerts: CapAlert[];
  /** Why embedded alerts were refused; an entry with a bad alert does not spoil the feed. */
  alertErrors: CapIssue[];
}

export interface AtomFeed {
  id: string;
  title: string;
  updated: string;
  links: AtomLink[];
  entries: AtomEntry[];
}

export interface AtomPerson {
  name: string;
  uri?: string;
  email?: string;
}

export interface AtomEntryInput {
  id: string;
  title: string;
  /** RFC 3339, e.g. a CAP `sent`. */
  updated: string;
  summary?: string;
  /** Where the CAP document is served; becomes the entry's alternate link. */
  capHref: string;
  /** Also embed the alert itself in `<content>`. */
  alert?: CapAlert;
}

export interface AtomFeedInput {
  /** An absolute IRI, e.g. urn:uuid:… or the feed's own URL. */
  id: string;
  title: string;
  updated: string;
  selfHref: string;
  /** Atom requires an author for every entry; the feed's covers them all. */
  author: AtomPerson;
  entries: AtomEntryInput[];
}

/** RFC 3339 date-time as Atom requires it (upper-case T and Z). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isAtomDate(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/** Hrefs of an entry's links to CAP documents: type application/cap+xml, rel alternate (Atom's default rel). */
export function capDocumentHrefs(entry: Pick<AtomEntry, 'links'>): string[] {
  return entry.links
    .filter(
      (l) => l.type?.split(';')[0]?.trim().toLowerCase() === CAP_MEDIA_TYPE && (l.rel ?? 'alternate') === 'alternate',
    )
    .map((l) => l.href);
}
