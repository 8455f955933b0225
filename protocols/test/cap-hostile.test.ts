import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CAP_MAX_BYTES, parseCap } from '@loa/protocols';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_CAP, capFixture, capWith, refusedWith } from './cap-fixtures.js';

const CAP_OPEN = '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">';

/** Parses, asserting it is refused fast with exactly one issue, and returns it. */
function refusedOnce(xml: string | Uint8Array, ms = 1000) {
  const start = performance.now();
  const errors = refusedWith(xml);
  expect(performance.now() - start).toBeLessThan(ms);
  expect(errors).toHaveLength(1);
  return errors[0];
}

describe('hostile CAP documents are refused without harm', () => {
  // A server the documents point at: nothing may ever ask it for anything.
  let server: Server;
  let base = '';
  let requests = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('<!ENTITY leak "leaked">');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    expect(requests).toBe(0);
  });

  it('XXE: an external entity naming /etc/passwd', () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
${capWith('<identifier>loa-1</identifier>', '<identifier>&xxe;</identifier>').replace(/^<\?xml[^>]*>\n/, '')}`;
    const issue = refusedOnce(xml);
    expect(issue).toEqual({ path: '', code: 'doctype', message: 'a DOCTYPE (DTD) is not allowed' });
  });

  it('XXE over HTTP and an external DTD fetch nothing', async () => {
    const entity = `<!DOCTYPE alert [<!ENTITY xxe SYSTEM "${base}/x">]>${CAP_OPEN}<identifier>&xxe;</identifier></alert>`;
    const dtd = `<?xml version="1.0"?><!DOCTYPE alert SYSTEM "${base}/cap.dtd">${CAP_OPEN}</alert>`;
    const publicId = `<!DOCTYPE alert PUBLIC "-//X//DTD CAP//EN" "${base}/p.dtd">${CAP_OPEN}</alert>`;
    for (const xml of [entity, dtd, publicId]) expect(refusedOnce(xml)?.code).toBe('doctype');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toBe(0);
  });

  it('billion laughs is refused before any expansion', () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lols}]>${CAP_OPEN}<identifier>&lol9;</identifier></alert>`;
    expect(refusedOnce(xml, 50)?.code).toBe('doctype');
  });

  it('parameter entities are refused', () => {
    const xml = `<!DOCTYPE alert [<!ENTITY % pe SYSTEM "${base}/pe.dtd"> %pe; <!ENTITY % inner "<!ENTITY x 'y'>"> %inner;]>${CAP_OPEN}</alert>`;
    expect(refusedOnce(xml)?.code).toBe('doctype');
  });

  it('a DOCTYPE is refused before the parser reads it, even one that is itself broken', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x "${'x'.repeat(1000)}`;
    expect(refusedOnce(xml, 50)).toEqual({ path: '', code: 'doctype', message: 'a DOCTYPE (DTD) is not allowed' });
  });

  it('a DOCTYPE behind comments and processing-instruction-like prolog is still seen', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- <alert> -->\n<!-- x -->\n<!DOCTYPE alert>${CAP_OPEN}</alert>`;
    expect(refusedOnce(xml)?.code).toBe('doctype');
  });

  it('a 10 MB document is refused by size before parsing, string or bytes', () => {
    const huge = `${CAP_OPEN}<note>${'A'.repeat(10 * 1024 * 1024)}</note></alert>`;
    const issue = refusedOnce(huge, 50);
    expect(issue?.code).toBe('too_large');
    expect(issue?.message).toBe(`the document is ${huge.length} bytes; the limit is ${CAP_MAX_BYTES}`);
    expect(refusedOnce(Buffer.from(huge), 50)?.code).toBe('too_large');
  });

  it('size counts UTF-8 bytes, not characters, and the limit is configurable', () => {
    const vietnamese = capWith('<event>Lũ quét</event>', `<event>${'ệ'.repeat(90_000)}</event>`); // 3 bytes each
    expect(vietnamese.length).toBeLessThan(CAP_MAX_BYTES);
    expect(refusedOnce(vietnamese)?.code).toBe('too_large');
    expect(parseCap(vietnamese, { maxBytes: 512 * 1024 }).ok).toBe(true);
    expect(capErrorsCode(parseCap(BASE_CAP, { maxBytes: 100 }))).toEqual(['too_large']);
  });

  it('deep nesting is refused', () => {
    const deep = `${CAP_OPEN}${'<x:a xmlns:x="urn:x">'.repeat(5_000)}${'</x:a>'.repeat(5_000)}</alert>`;
    const issue = refusedOnce(deep);
    expect(issue?.code).toBe('too_deep');
    expect(issue?.message).toContain('deeper than 32 levels');
    expect(capErrorsCode(parseCap(BASE_CAP, { maxDepth: 3 }))).toEqual(['too_deep']);
  });

  it('too many elements are refused', () => {
    const many = `${CAP_OPEN}${'<x:a xmlns:x="urn:x"/>'.repeat(11_000)}</alert>`;
    const issue = refusedOnce(many);
    expect(issue).toEqual({ path: '', code: 'too_many_elements', message: 'more than 10000 elements' });
  });

  it('entity references other than the predefined five are refused', () => {
    for (const ref of ['&nbsp;', '&xxe;', '&lol9;']) {
      const issue = refusedOnce(capWith('<event>Lũ quét</event>', `<event>a${ref}</event>`));
      expect(issue?.code).toBe('entity');
      expect(issue?.message).toMatch(/^line 11, column \d+: entity reference not allowed/);
    }
  });

  it('processing instructions are refused, in the prolog or inside', () => {
    const stylesheet = `<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="cap.xsl"?>${BASE_CAP.split('?>')[1]}`;
    expect(refusedOnce(stylesheet)).toMatchObject({
      code: 'processing_instruction',
      message: 'processing instruction <?xml-stylesheet?> is not allowed',
    });
    expect(refusedOnce(capWith('<info>', '<info><?php system("id") ?>'))?.code).toBe('processing_instruction');
  });

  it('wrong namespaces are refused with a clear message', () => {
    const v11 = BASE_CAP.replace('cap:1.2', 'cap:1.1');
    expect(refusedOnce(v11)).toEqual({
      path: 'alert',
      code: 'wrong_root',
      message:
        'alert: this is CAP 1.1 (urn:oasis:names:tc:emergency:cap:1.1); only CAP 1.2 (urn:oasis:names:tc:emergency:cap:1.2) is accepted',
    });
    const none = BASE_CAP.replace(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', '');
    expect(refusedOnce(none)?.message).toBe(
      'alert: <alert> has no namespace; CAP 1.2 needs xmlns="urn:oasis:names:tc:emergency:cap:1.2"',
    );
    const other = BASE_CAP.replace('urn:oasis:names:tc:emergency:cap:1.2', 'urn:example:alerts');
    expect(refusedOnce(other)?.message).toBe(
      'alert: expected <alert> in urn:oasis:names:tc:emergency:cap:1.2, found <alert> in urn:example:alerts',
    );
    expect(refusedOnce('<alert xmlns="constructor"/>')?.message).toBe(
      'alert: expected <alert> in urn:oasis:names:tc:emergency:cap:1.2, found <alert> in constructor',
    );
    expect(refusedOnce(capFixture('atom-feed.xml'))?.message).toBe(
      'feed: expected <alert> in urn:oasis:names:tc:emergency:cap:1.2, found <feed> in http://www.w3.org/2005/Atom',
    );
  });

  it('not XML, truncated XML and broken markup are refused as not well-formed', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /no root element|must contain a root element/],
      ['hello, world', /^not well-formed XML at line 1/],
      ['{"identifier":"x"}', /^not well-formed XML/],
      [BASE_CAP.slice(0, BASE_CAP.length / 2), /^not well-formed XML at line \d+, column \d+: unclosed tag/],
      [capWith('</event>', '</evnt>'), /^not well-formed XML/],
      [capWith('<event>', '<event a="1" a="2">'), /duplicate attribute/],
      [capWith('<event>Lũ quét</event>', '<x:event>Lũ</x:event>'), /unbound namespace prefix/],
      [`${BASE_CAP}<alert/>`, /^not well-formed XML/],
    ];
    for (const [xml, message] of cases) {
      const issue = refusedOnce(xml);
      expect(issue?.code).toBe('not_xml');
      expect(issue?.message).toMatch(message);
    }
  });

  it('bytes must be UTF-8', () => {
    expect(refusedOnce(Buffer.from(BASE_CAP, 'utf16le'))?.message).toBe(
      'the document is UTF-16; only UTF-8 is accepted',
    );
    const bom16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BASE_CAP, 'utf16le')]);
    expect(refusedOnce(bom16)).toMatchObject({
      code: 'encoding',
      message: 'the document is UTF-16; only UTF-8 is accepted',
    });
    const latin1 = Buffer.from(BASE_CAP.replace('UTF-8', 'ISO-8859-1'), 'latin1');
    expect(refusedOnce(latin1)?.code).toBe('encoding');
    const declared = Buffer.from(BASE_CAP.replace('UTF-8', 'ISO-8859-1'), 'utf8');
    expect(refusedOnce(declared)?.message).toBe('encoding ISO-8859-1 is not accepted; only UTF-8');
  });

  it('never throws and stays fast on random and mutated input', () => {
    const known = new Set(['not_xml', 'entity', 'doctype', 'processing_instruction', 'wrong_root', 'encoding']);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = parseCap(s);
        return !r.ok && r.errors.length > 0 && r.errors.every((e) => typeof e.message === 'string');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(BASE_CAP.length), fc.string({ minLength: 1, maxLength: 4 }), (at, junk) => {
        const r = parseCap(BASE_CAP.slice(0, at) + junk + BASE_CAP.slice(at));
        return r.ok || r.errors.every((e) => known.has(e.code) || e.path.startsWith('alert'));
      }),
      { numRuns: 500 },
    );
  });
});

function capErrorsCode(result: ReturnType<typeof parseCap>): string[] {
  return result.ok ? [] : result.errors.map((e) => e.code);
}
