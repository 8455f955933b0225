import {
  type AtomFeed,
  type AtomFeedInput,
  CAP_MEDIA_TYPE,
  type CapAlert,
  CapWriteError,
  capDocumentHrefs,
  parseAtomFeed,
  parseCap,
  writeAtomFeed,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { BASE_CAP, capFixture, capWith } from './cap-fixtures.js';

function feedOf(xml: string | Uint8Array): AtomFeed {
  const result = parseAtomFeed(xml);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.feed;
}

function capAlert(xml: string): CapAlert {
  const result = parseCap(xml);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.alert;
}

const ATOM_OPEN = '<feed xmlns="http://www.w3.org/2005/Atom">';
const HEAD = '<id>urn:x:feed</id><title>t</title><updated>2026-11-22T00:00:00Z</updated>';
const ENTRY = '<entry><id>urn:x:1</id><title>e</title><updated>2026-11-22T07:00:00+07:00</updated>';

describe('Atom feeds of CAP alerts', () => {
  it('reads entries, links and an alert embedded in content', () => {
    const feed = feedOf(capFixture('atom-feed.xml'));
    expect(feed.id).toBe('https://pctt.example.gov.vn/cap/feed.atom');
    expect(feed.title).toBe('Cảnh báo thiên tai tỉnh');
    expect(feed.links).toEqual([
      { href: 'https://pctt.example.gov.vn/cap/feed.atom', rel: 'self', type: 'application/atom+xml' },
    ]);
    const [cancel, warning] = feed.entries;
    expect(cancel).toStrictEqual({
      id: 'urn:uuid:6f1c2b9e-3a55-4d0e-9a1f-0c2d4e6f8a01',
      title: 'Hủy cảnh báo lũ quét',
      updated: '2026-11-22T07:04:30+07:00',
      summary: '<b>Báo động nhầm</b>', // type="html": the markup, unescaped once
      links: [
        {
          href: 'https://pctt.example.gov.vn/cap/loa-2026-11-22-0002.xml',
          rel: 'alternate',
          type: CAP_MEDIA_TYPE,
        },
      ],
      alerts: [],
      alertErrors: [],
    });
    expect(warning?.title).toBe('Cảnh báo lũ quét cấp độ 4'); // xhtml flattened in document order
    expect(capDocumentHrefs(warning ?? { links: [] })).toEqual([
      'https://pctt.example.gov.vn/cap/loa-2026-11-22-0001.xml',
    ]);
    expect(warning?.alerts).toHaveLength(1);
    expect(warning?.alerts[0]?.identifier).toBe('loa-2026-11-22-0001');
    expect(warning?.alerts[0]?.info[0]?.area[0]?.polygon[0]).toHaveLength(5);
  });

  it('keeps a feed whose embedded alert is invalid, reporting it on the entry', () => {
    const badAlert = capWith('<status>Actual</status>', '<status>Real</status>').replace(/^<\?xml[^>]*>/, '');
    const v11 = BASE_CAP.replace('cap:1.2', 'cap:1.1').replace(/^<\?xml[^>]*>/, '');
    const xml = `${ATOM_OPEN}${HEAD}${ENTRY}<content type="${CAP_MEDIA_TYPE}">${badAlert}</content></entry>${ENTRY}<content type="${CAP_MEDIA_TYPE}">${v11}</content></entry></feed>`;
    const [first, second] = feedOf(xml).entries;
    expect(first?.alerts).toEqual([]);
    expect(first?.alertErrors.map((e) => e.message)).toEqual([
      "feed/entry[0]/content/alert/status: 'Real' is not one of Actual, Exercise, System, Test, Draft",
    ]);
    expect(second?.alertErrors[0]?.message).toMatch(/^feed\/entry\[1\]\/content\/alert: this is CAP 1\.1/);
  });

  it('refuses non-Atom roots clearly', () => {
    const refusal = (xml: string) => {
      const r = parseAtomFeed(xml);
      return r.ok ? 'accepted' : r.errors.map((e) => e.message).join('\n');
    };
    expect(refusal('<rss version="2.0"><channel/></rss>')).toBe(
      'rss: expected <feed> in http://www.w3.org/2005/Atom, found <rss> with no namespace',
    );
    expect(refusal('<feed xmlns="http://purl.org/atom/ns#"/>')).toBe(
      'feed: expected <feed> in http://www.w3.org/2005/Atom, found <feed> in http://purl.org/atom/ns#',
    );
    expect(refusal(BASE_CAP)).toBe('alert: this is a CAP alert, not an Atom feed');
  });

  it('is as safe as parseCap', () => {
    const xxe = `<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${ATOM_OPEN}<id>&xxe;</id></feed>`;
    const codes = (xml: string | Uint8Array, options?: { maxBytes?: number }) => {
      const r = parseAtomFeed(xml, options);
      return r.ok ? [] : r.errors.map((e) => e.code);
    };
    expect(codes(xxe)).toEqual(['doctype']);
    expect(codes(`${ATOM_OPEN}<id>&nbsp;</id></feed>`)).toEqual(['entity']);
    expect(codes(`${ATOM_OPEN}${'<x:a xmlns:x="urn:x">'.repeat(100)}`)).toEqual(['too_deep']);
    expect(codes(`${ATOM_OPEN}${' '.repeat(2 * 1024 * 1024)}</feed>`)).toEqual(['too_large']);
    expect(codes(capFixture('atom-feed.xml'), { maxBytes: 1000 })).toEqual(['too_large']);
  });

  it('requires id, title and updated, and hrefs on links', () => {
    const r = parseAtomFeed(
      `${ATOM_OPEN}<title>t</title><updated>yesterday</updated><entry><title>e</title><updated>2026-11-22T00:00:00Z</updated><link rel="alternate"/></entry></feed>`,
    );
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([
      'feed/id: is required',
      "feed/updated: 'yesterday' is not an RFC 3339 date-time",
      'feed/entry[0]/id: is required',
      'feed/entry[0]/link[0]: has no href',
    ]);
  });

  it('writes a feed that links to CAP documents and parses back', () => {
    const alert = capAlert(capFixture('loa-flood-alert.xml'));
    const input: AtomFeedInput = {
      id: 'https://pctt.example.gov.vn/cap/feed.atom',
      title: 'Cảnh báo thiên tai & sự cố',
      updated: '2026-11-22T07:04:30+07:00',
      selfHref: 'https://pctt.example.gov.vn/cap/feed.atom',
      author: { name: 'Ban chỉ huy PCTT tỉnh', email: 'pctt@example.gov.vn' },
      entries: [
        {
          id: 'urn:uuid:6f1c2b9e-3a55-4d0e-9a1f-0c2d4e6f8a00',
          title: 'Cảnh báo lũ quét cấp độ 4',
          updated: alert.sent,
          summary: 'Lũ quét <nguy hiểm>',
          capHref: 'https://pctt.example.gov.vn/cap/loa-2026-11-22-0001.xml',
          alert,
        },
        {
          id: 'urn:uuid:6f1c2b9e-3a55-4d0e-9a1f-0c2d4e6f8a01',
          title: 'Hủy cảnh báo',
          updated: '2026-11-22T00:04:30-00:00',
          capHref: '/cap/loa-2026-11-22-0002.xml',
        },
      ],
    };
    const xml = writeAtomFeed(input);
    expect(xml).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    expect(xml).toContain(
      '<link rel="self" type="application/atom+xml" href="https://pctt.example.gov.vn/cap/feed.atom"/>',
    );
    expect(xml).toContain('<content type="application/cap+xml">');
    expect(xml).toContain('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">');
    expect(xml).toContain('<name>Ban chỉ huy PCTT tỉnh</name>');
    const feed = feedOf(xml);
    expect(feed).toMatchObject({ id: input.id, title: input.title, updated: input.updated });
    expect(feed.entries.map((e) => capDocumentHrefs(e))).toEqual([
      ['https://pctt.example.gov.vn/cap/loa-2026-11-22-0001.xml'],
      ['/cap/loa-2026-11-22-0002.xml'],
    ]);
    expect(feed.entries[0]?.summary).toBe('Lũ quét <nguy hiểm>');
    expect(feed.entries[0]?.alerts).toStrictEqual([alert]);
    expect(feed.entries[1]?.alerts).toEqual([]);
  });

  it('refuses to write an invalid feed or alert', () => {
    const input: AtomFeedInput = {
      id: 'not an iri',
      title: 't',
      updated: '2026-11-22',
      selfHref: 'https://x.example/feed',
      author: { name: 'a' },
      entries: [],
    };
    expect(() => writeAtomFeed(input)).toThrow(CapWriteError);
    try {
      writeAtomFeed(input);
    } catch (err) {
      expect((err as CapWriteError).issues.map((i) => i.path)).toEqual(['feed/id', 'feed/updated']);
    }
    const alert = { ...capAlert(BASE_CAP), sent: '2026-11-22T00:00:00Z' };
    const withAlert: AtomFeedInput = {
      ...input,
      id: 'urn:x:feed',
      updated: '2026-11-22T00:00:00Z',
      entries: [{ id: 'urn:x:1', title: 'e', updated: '2026-11-22T00:00:00Z', capHref: '/a.xml', alert }],
    };
    expect(() => writeAtomFeed(withAlert)).toThrow(/feed\/entry\[0\]\/content\/alert\/sent: .* uses 'Z'/);
  });
});
