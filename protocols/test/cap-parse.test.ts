import { CAP_DEFAULT_LANGUAGE, type CapAlert, parseCap, writeCap } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { BASE_CAP, capFixture, capWith, LOA_FIXTURES, SPEC_FIXTURES } from './cap-fixtures.js';

function parsed(xml: string | Uint8Array): CapAlert {
  const result = parseCap(xml);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.alert;
}

describe('CAP 1.2 parsing', () => {
  it.each([...SPEC_FIXTURES, ...LOA_FIXTURES])('%s: parse → write → parse gives the same model', (name) => {
    const first = parsed(capFixture(name));
    const written = writeCap(first);
    expect(parsed(written)).toStrictEqual(first);
    // And writing is stable: the second document is byte-for-byte the first.
    expect(writeCap(parsed(written))).toBe(written);
  });

  it('reads the homeland security advisory (A.1) with its parameter and resource', () => {
    const alert = parsed(capFixture('spec-a1-homeland-security.xml'));
    expect(alert).toMatchObject({
      identifier: '43b080713727',
      sender: 'hsas@dhs.gov',
      sent: '2003-04-02T14:39:01-05:00',
      status: 'Actual',
      msgType: 'Alert',
      scope: 'Public',
      code: [],
      references: [],
    });
    const [info] = alert.info;
    expect(info?.language).toBe(CAP_DEFAULT_LANGUAGE);
    expect(info?.category).toEqual(['Security']);
    expect(info?.parameter).toEqual([{ valueName: 'HSAS', value: 'ORANGE' }]);
    expect(info?.resource).toStrictEqual([
      {
        resourceDesc: 'Image file (GIF)',
        mimeType: 'image/gif',
        uri: 'http://www.dhs.gov/dhspublic/getAdvisoryImage',
      },
    ]);
    expect(info?.instruction?.startsWith('A High Condition')).toBe(true); // trimmed
    expect(info?.area).toStrictEqual([
      { areaDesc: 'U.S. nationwide and interests worldwide', polygon: [], circle: [], geocode: [] },
    ]);
  });

  it('reads the thunderstorm warning (A.2): polygon as [lat, lon] pairs, geocodes, event code', () => {
    const info = parsed(capFixture('spec-a2-thunderstorm.xml')).info[0];
    expect(info?.responseType).toEqual(['Shelter']);
    expect(info?.eventCode).toEqual([{ valueName: 'SAME', value: 'SVR' }]);
    expect(info?.expires).toBe('2003-06-17T16:00:00-07:00');
    const area = info?.area[0];
    expect(area?.polygon).toEqual([
      [
        [38.47, -120.14],
        [38.34, -119.95],
        [38.52, -119.74],
        [38.62, -119.89],
        [38.47, -120.14],
      ],
    ]);
    expect(area?.geocode.map((g) => g.value)).toEqual(['006109', '006009', '006003']);
  });

  it('reads the earthquake update (A.3): references parsed, circle with radius 0, five parameters', () => {
    const alert = parsed(capFixture('spec-a3-earthquake-update.xml'));
    expect(alert.msgType).toBe('Update');
    expect(alert.references).toEqual([
      { sender: 'trinet@caltech.edu', identifier: 'TRI13970876.1', sent: '2003-06-11T20:30:00-07:00' },
    ]);
    expect(alert.info[0]?.parameter.map((p) => p.valueName)).toEqual([
      'EventID',
      'Version',
      'Magnitude',
      'Depth',
      'Quality',
    ]);
    expect(alert.info[0]?.area[0]?.circle).toEqual([{ lat: 32.9525, lon: -115.5527, radiusKm: 0 }]);
  });

  it('reads the amber alert (A.4): source and one info per language', () => {
    const alert = parsed(capFixture('spec-a4-amber-alert.xml'));
    expect(alert.source).toBe('SW');
    expect(alert.info.map((i) => i.language)).toEqual(['en-US', 'es-US']);
    expect(alert.info[1]?.event).toBe('Abducción de Niño');
  });

  it('reads a Loa warning: Vietnamese text, entities decoded, numbers, multi-line description', () => {
    const alert = parsed(capFixture('loa-flood-alert.xml'));
    expect(alert.code).toEqual(['loa:v1']);
    expect(alert.incidents).toBe('flood-2026-11');
    const [vi, hmn] = alert.info;
    expect(vi?.audience).toBe('Người dân thôn Nà Lừa & thôn Pác Bó');
    expect(vi?.description).toBe(
      'Mưa lớn kéo dài, nguy cơ lũ quét và sạt lở đất rất cao\ntại các thôn ven suối. Mực nước suối đang lên nhanh (> 2 m).',
    );
    expect(vi?.resource[0]?.size).toBe(61440);
    expect(vi?.area[0]).toMatchObject({
      circle: [{ lat: 22.769, lon: 104.117, radiusKm: 1.5 }],
      altitude: 300,
      ceiling: 1200.5,
    });
    expect(vi?.area.map((a) => a.areaDesc)).toEqual(['Thôn Nà Lừa, xã Mường Khương', 'Thôn Pác Bó']);
    expect(hmn?.language).toBe('hmn');
  });

  it('reads a Cancel that references two earlier alerts', () => {
    const alert = parsed(capFixture('loa-flood-cancel.xml'));
    expect(alert.msgType).toBe('Cancel');
    expect(alert.note).toBe('Báo động nhầm (false alarm)');
    expect(alert.references.map((r) => r.identifier)).toEqual(['loa-2026-11-22-0001', 'loa-2026-11-21-0007']);
  });

  it('accepts bytes, a UTF-8 BOM, CDATA, comments and numeric character references', () => {
    const xml = capWith('<event>Lũ quét</event>', '<!-- c --><event><![CDATA[Lũ <quét>]]> &#x1EC7;&#233;&amp;</event>');
    const fromBytes = parsed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]));
    expect(fromBytes.info[0]?.event).toBe('Lũ <quét> ệé&');
  });

  it('is tolerant of element order and skips elements of other namespaces', () => {
    const shuffled = capWith(
      '<identifier>loa-1</identifier>',
      '<x:signature xmlns:x="urn:example:sig"><x:value>abc</x:value></x:signature><scope>Public</scope>',
      capWith('<scope>Public</scope>', '<identifier>loa-1</identifier>'),
    );
    const alert = parsed(shuffled);
    expect(alert).toStrictEqual(parsed(BASE_CAP));
    expect(JSON.stringify(alert)).not.toContain('abc');
  });

  it('parses a document near the limits in well under a second', () => {
    const codes = '<code>c</code>'.repeat(9_000);
    const xml = capWith('<scope>Public</scope>', `<scope>Public</scope>${codes}`);
    const start = performance.now();
    const alert = parsed(xml);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(alert.code).toHaveLength(9_000);
  });
});
