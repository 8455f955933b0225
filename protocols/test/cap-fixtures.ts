import { readFileSync } from 'node:fs';
import { type CapIssue, type CapParseResult, parseCap } from '@loa/protocols';

const dir = new URL('./fixtures/cap/', import.meta.url);

export function capFixture(name: string): string {
  return readFileSync(new URL(name, dir), 'utf8');
}

export const SPEC_FIXTURES = [
  'spec-a1-homeland-security.xml',
  'spec-a2-thunderstorm.xml',
  'spec-a3-earthquake-update.xml',
  'spec-a4-amber-alert.xml',
] as const;
export const LOA_FIXTURES = ['loa-flood-alert.xml', 'loa-flood-cancel.xml'] as const;

/** A small valid alert to bend one rule at a time. */
export const BASE_CAP = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>loa-1</identifier>
  <sender>loa@province-10.gov.vn</sender>
  <sent>2026-11-22T07:00:00+07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Met</category>
    <event>Lũ quét</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <area>
      <areaDesc>Xã Mường Khương</areaDesc>
    </area>
  </info>
</alert>`;

/** BASE_CAP with one exact piece replaced; throws if the piece is not there, so a typo cannot pass. */
export function capWith(from: string, to: string, xml = BASE_CAP): string {
  if (!xml.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return xml.replace(from, to);
}

export function capErrors(result: CapParseResult): CapIssue[] {
  if (result.ok) throw new Error('expected the document to be refused');
  return result.errors;
}

export function refusedWith(xml: string | Uint8Array): CapIssue[] {
  return capErrors(parseCap(xml));
}
