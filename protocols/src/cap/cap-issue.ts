/** Why a document was refused: the XML layer's codes first, then CAP's rules. */
export type CapIssueCode =
  | 'too_large'
  | 'encoding'
  | 'not_xml'
  | 'doctype'
  | 'entity'
  | 'processing_instruction'
  | 'too_deep'
  | 'too_many_elements'
  | 'wrong_root'
  | 'unknown_element'
  | 'duplicate'
  | 'required'
  | 'structure'
  | 'enum'
  | 'format'
  | 'range';

export interface CapIssue {
  /** Where: `alert/info[0]/area[1]/polygon[0]`; '' for the document as a whole. */
  path: string;
  code: CapIssueCode;
  /** Human-readable, and starts with the path so it can be logged on its own. */
  message: string;
}

/** At most this many issues are reported, so hostile input cannot make reports huge. */
export const MAX_CAP_ISSUES = 50;

export function capIssue(path: string, code: CapIssueCode, text: string): CapIssue {
  return { path, code, message: path === '' ? text : `${path}: ${text}` };
}

/** Collects issues up to the cap; `add` keeps call sites one line long. */
export class CapIssues {
  readonly list: CapIssue[] = [];

  add(path: string, code: CapIssueCode, text: string): void {
    if (this.list.length < MAX_CAP_ISSUES) this.list.push(capIssue(path, code, text));
  }

  /** Adds issues from a later pass unless an earlier one already names the same path. */
  merge(later: readonly CapIssue[]): void {
    const seen = new Set(this.list.map((i) => i.path));
    for (const issue of later) {
      if (!seen.has(issue.path) && this.list.length < MAX_CAP_ISSUES) this.list.push(issue);
    }
  }
}
