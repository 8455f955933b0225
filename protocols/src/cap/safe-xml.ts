import { SaxesParser, type SaxesTagNS } from 'saxes';
import { type CapIssue, type CapIssueCode, capIssue } from './cap-issue.js';

/**
 * A small XML reader for documents from outside (CAP alerts, Atom feeds): it builds a
 * plain element tree and refuses, rather than tolerates, every XML feature a hostile
 * sender could use. No DTD is ever read, so there are no external entities (XXE), no
 * entity expansion (billion laughs) and no network or file access; only the five
 * predefined entities and numeric character references are decoded (saxes itself knows
 * no others). Size is checked before parsing; depth and element count while parsing.
 */
export interface XmlElement {
  /** Namespace URI, '' for none. */
  uri: string;
  local: string;
  /** Attributes by local name, namespaced ones as written (`xml:lang`); no xmlns declarations. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside this element (CDATA included), untrimmed. */
  text: string;
  /** Text and child elements in document order, for mixed content. */
  content: Array<string | XmlElement>;
  line: number;
}

export interface SafeXmlLimits {
  /** Largest document in UTF-8 bytes, checked before parsing. */
  maxBytes: number;
  /** Deepest element nesting, the root counting as 1. */
  maxDepth: number;
  maxElements: number;
}

export type SafeXmlResult = { ok: true; root: XmlElement } | { ok: false; error: CapIssue };

/** Lets a caller refuse a document by its root before the rest is read. */
export type RootCheck = (root: XmlElement) => CapIssue | undefined;

class Refusal extends Error {
  constructor(readonly issue: CapIssue) {
    super(issue.message);
  }
}

const XMLNS = 'http://www.w3.org/2000/xmlns/';
const refuse = (code: CapIssueCode, text: string) => new Refusal(capIssue('', code, text));

export function parseSafeXml(input: string | Uint8Array, limits: SafeXmlLimits, checkRoot?: RootCheck): SafeXmlResult {
  try {
    const text = decode(input, limits.maxBytes);
    if (prologHasDoctype(text)) throw refuse('doctype', 'a DOCTYPE (DTD) is not allowed');
    return { ok: true, root: build(text, limits, typeof input !== 'string', checkRoot) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: err.issue };
    return { ok: false, error: saxesIssue(err instanceof Error ? err.message : String(err)) };
  }
}

function decode(input: string | Uint8Array, maxBytes: number): string {
  const tooLarge = (n: number) => refuse('too_large', `the document is ${n} bytes; the limit is ${maxBytes}`);
  if (typeof input === 'string') {
    // Every UTF-16 unit is at least one UTF-8 byte, so a long string is refused unmeasured.
    if (input.length > maxBytes) throw tooLarge(input.length);
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > maxBytes) throw tooLarge(bytes);
    return input.startsWith('\uFEFF') ? input.slice(1) : input;
  }
  if (input.byteLength > maxBytes) throw tooLarge(input.byteLength);
  // A BOM, or the NUL beside the first '<' that UTF-16 without a BOM gives away.
  const [b0, b1] = [input[0], input[1]];
  if (
    (b0 === 0xfe && b1 === 0xff) ||
    (b0 === 0xff && b1 === 0xfe) ||
    (b0 === 0x3c && b1 === 0) ||
    (b0 === 0 && b1 === 0x3c)
  )
    throw refuse('encoding', 'the document is UTF-16; only UTF-8 is accepted');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input); // drops a UTF-8 BOM
  } catch {
    throw refuse('encoding', 'the document is not valid UTF-8');
  }
}

/**
 * A DOCTYPE can only stand in the prolog, after the XML declaration, comments and
 * processing instructions, so looking there refuses it before the parser reads a byte
 * of it (saxes's own doctype event, which comes after the whole DTD, is the backstop).
 */
function prologHasDoctype(text: string): boolean {
  let i = 0;
  for (;;) {
    while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++;
    if (text.startsWith('<!DOCTYPE', i)) return true;
    const end = text.startsWith('<?', i) ? '?>' : text.startsWith('<!--', i) ? '-->' : undefined;
    if (end === undefined) return false;
    const close = text.indexOf(end, i + 2);
    if (close < 0) return false;
    i = close + end.length;
  }
}

function build(text: string, limits: SafeXmlLimits, fromBytes: boolean, checkRoot?: RootCheck): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;

  parser.on('doctype', () => {
    throw refuse('doctype', 'a DOCTYPE (DTD) is not allowed');
  });
  parser.on('processinginstruction', (pi) => {
    throw refuse('processing_instruction', `processing instruction <?${pi.target}?> is not allowed`);
  });
  parser.on('xmldecl', (decl) => {
    // A string is already decoded; bytes were decoded as UTF-8 and must have been UTF-8.
    const encoding = decl.encoding?.toLowerCase();
    if (fromBytes && encoding !== undefined && encoding !== 'utf-8' && encoding !== 'us-ascii')
      throw refuse('encoding', `encoding ${decl.encoding} is not accepted; only UTF-8`);
  });
  parser.on('opentagstart', () => {
    if (++count > limits.maxElements) throw refuse('too_many_elements', `more than ${limits.maxElements} elements`);
    if (stack.length + 1 > limits.maxDepth)
      throw refuse('too_deep', `elements nested deeper than ${limits.maxDepth} levels (line ${parser.line})`);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const element: XmlElement = {
      uri: tag.uri,
      local: tag.local,
      attributes: attributesOf(tag),
      children: [],
      text: '',
      content: [],
      line: parser.line,
    };
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.children.push(element);
      parent.content.push(element);
    } else {
      root = element;
      const issue = checkRoot?.(element);
      if (issue) throw new Refusal(issue);
    }
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const addText = (t: string) => {
    const current = stack[stack.length - 1];
    if (!current) return;
    current.text += t;
    current.content.push(t);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);

  parser.write(text).close();
  if (!root) throw refuse('not_xml', 'the document has no root element');
  return root;
}

function attributesOf(tag: SaxesTagNS): Record<string, string> {
  const out: Record<string, string> = Object.create(null); // an attribute may be called __proto__
  for (const attr of Object.values(tag.attributes)) {
    if (attr.uri === '' && attr.prefix === '' && attr.local !== 'xmlns') out[attr.local] = attr.value;
    else if (attr.uri !== XMLNS && attr.prefix !== 'xmlns') out[`${attr.prefix}:${attr.local}`] = attr.value;
  }
  return out;
}

/** saxes reports "line:column: message"; say it in words and name entity refusals. */
function saxesIssue(raw: string): CapIssue {
  const m = /^(\d+):(\d+): (.*)$/s.exec(raw);
  const where = m ? `line ${m[1]}, column ${m[2]}` : 'somewhere';
  const what = (m ? m[3] : raw) ?? raw;
  if (/undefined entity|entity name/.test(what))
    return capIssue(
      '',
      'entity',
      `${where}: entity reference not allowed; only &amp; &lt; &gt; &quot; &apos; and numeric references are`,
    );
  return capIssue('', 'not_xml', `not well-formed XML at ${where}: ${what.replace(/\.$/, '')}`);
}

/** All character data inside an element, descendants included (for Atom's xhtml text). */
export function textContent(element: XmlElement): string {
  return element.content.map((c) => (typeof c === 'string' ? c : textContent(c))).join('');
}
