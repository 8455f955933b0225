import { capAlertFromXml } from './cap-from-xml.js';
import { type CapIssue, CapIssues, capIssue } from './cap-issue.js';
import { CAP_NAMESPACE, type CapAlert, oldCapVersion } from './cap-model.js';
import { validateCapAlert } from './cap-rules.js';
import { parseSafeXml, type SafeXmlLimits, type XmlElement } from './safe-xml.js';

export interface CapParseOptions {
  /** Largest document accepted, in UTF-8 bytes; default 256 KiB. */
  maxBytes?: number;
  /** Deepest element nesting; default 32 (CAP itself needs 5). */
  maxDepth?: number;
  /** Most elements; default 10 000. */
  maxElements?: number;
}

export type CapParseResult = { ok: true; alert: CapAlert } | { ok: false; errors: CapIssue[] };

export const CAP_MAX_BYTES = 256 * 1024;

export function capLimits(options: CapParseOptions = {}, maxBytes = CAP_MAX_BYTES): SafeXmlLimits {
  return {
    maxBytes: options.maxBytes ?? maxBytes,
    maxDepth: options.maxDepth ?? 32,
    maxElements: options.maxElements ?? 10_000,
  };
}

/** Says why an element is not a CAP 1.2 `<alert>`, naming an older CAP version when it is one. */
export function notCapAlert(el: XmlElement, path: string): CapIssue | undefined {
  if (el.local === 'alert' && el.uri === CAP_NAMESPACE) return undefined;
  const version = oldCapVersion(el.uri);
  const text =
    el.local === 'alert' && version
      ? `this is ${version} (${el.uri}); only CAP 1.2 (${CAP_NAMESPACE}) is accepted`
      : el.local === 'alert' && el.uri === ''
        ? `<alert> has no namespace; CAP 1.2 needs xmlns="${CAP_NAMESPACE}"`
        : `expected <alert> in ${CAP_NAMESPACE}, found <${el.local}>${el.uri ? ` in ${el.uri}` : ' with no namespace'}`;
  return capIssue(path, 'wrong_root', text);
}

/** The model of an `<alert>` element with every structural and value issue. */
export function capAlertFromElement(el: XmlElement, path: string): CapParseResult {
  const wrong = notCapAlert(el, path);
  if (wrong) return { ok: false, errors: [wrong] };
  const issues = new CapIssues();
  const alert = capAlertFromXml(el, path, issues);
  issues.merge(validateCapAlert(alert, path));
  return issues.list.length === 0 ? { ok: true, alert } : { ok: false, errors: issues.list };
}

/**
 * Parses and validates a CAP 1.2 alert. Never throws. Refuses DTDs, entities other than
 * XML's five and numeric references, processing instructions, oversized, too deep or too
 * large documents, and anything but `<alert>` in the CAP 1.2 namespace.
 */
export function parseCap(xml: string | Uint8Array, options?: CapParseOptions): CapParseResult {
  const parsed = parseSafeXml(xml, capLimits(options), (root) => notCapAlert(root, root.local));
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  return capAlertFromElement(parsed.root, 'alert');
}
