import {
  type CapAlert,
  CapWriteError,
  formatCapDateTime,
  parseCap,
  parseCapDateTime,
  splitCapList,
  validateCapAlert,
  writeCap,
} from '@loa/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NOW } from './fixtures.js';

function alert(overrides: Partial<CapAlert> = {}): CapAlert {
  return {
    identifier: 'loa-2026-11-22-0001',
    sender: 'loa@province-10.gov.vn',
    sent: formatCapDateTime(NOW, 420),
    status: 'Exercise',
    msgType: 'Alert',
    scope: 'Restricted',
    restriction: 'Ban chỉ huy PCTT',
    code: ['loa:v1', 'exercise'],
    note: 'Diễn tập <không phải thật> & đừng hoảng',
    references: [],
    info: [
      {
        language: 'vi-VN',
        category: ['Met', 'Safety'],
        event: 'Bão',
        responseType: ['Prepare'],
        urgency: 'Expected',
        severity: 'Severe',
        certainty: 'Possible',
        eventCode: [{ valueName: 'loa:hazard', value: 'storm' }],
        expires: formatCapDateTime(NOW + 12 * 3_600_000, 420),
        headline: 'Bão số 9 ]]> gần bờ',
        description: 'Dòng 1\nDòng 2 "trích" \'dẫn\'',
        parameter: [{ valueName: 'loa:riskLevel', value: '3' }],
        resource: [{ resourceDesc: 'Bản tin', mimeType: 'audio/ogg', size: 0, uri: 'https://x.example/a.opus' }],
        area: [
          {
            areaDesc: 'Xã A',
            polygon: [
              [
                [22.5, 104.1],
                [22.6, 104.2],
                [22.4, 104.3],
                [-0.000001, -179.99999999],
                [22.5, 104.1],
              ],
            ],
            circle: [{ lat: 22.5, lon: 104.1, radiusKm: 0.25 }],
            geocode: [{ valueName: 'vn:commune', value: '02707' }],
            altitude: -12.5,
            ceiling: 3000,
          },
        ],
      },
    ],
    ...overrides,
  };
}

function roundTrip(a: CapAlert): CapAlert {
  const result = parseCap(writeCap(a));
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.alert;
}

describe('writeCap', () => {
  it('round-trips a model exactly, escaping text', () => {
    const a = alert();
    expect(roundTrip(a)).toStrictEqual(a);
    const xml = writeCap(a);
    expect(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'),
    ).toBe(true);
    expect(xml).toContain('<note>Diễn tập &lt;không phải thật&gt; &amp; đừng hoảng</note>');
    expect(xml).toContain('<headline>Bão số 9 ]]&gt; gần bờ</headline>');
    expect(xml).toContain('<polygon>22.5,104.1 22.6,104.2 22.4,104.3 -0.000001,-179.99999999 22.5,104.1</polygon>');
    expect(xml).toContain('<circle>22.5,104.1 0.25</circle>');
    expect(xml).toContain('<sent>2026-11-22T07:00:00+07:00</sent>');
  });

  it('writes elements in the order of the CAP 1.2 XSD', () => {
    const xml = writeCap(
      alert({
        source: 's',
        addresses: 'a',
        incidents: 'i',
        references: [{ sender: 'x@y', identifier: 'old', sent: '2026-11-21T00:00:00-00:00' }],
      }),
    );
    const names = [...xml.matchAll(/<([A-Za-z]+)[ >]/g)].map((m) => m[1]);
    const order = (seq: string[]) =>
      names.filter((n) => seq.includes(n as string)).filter((n, i, all) => all.indexOf(n) === i);
    const alertSeq = [
      'identifier',
      'sender',
      'sent',
      'status',
      'msgType',
      'source',
      'scope',
      'restriction',
      'addresses',
    ];
    const alertTail = ['code', 'note', 'references', 'incidents', 'info'];
    expect(order([...alertSeq, ...alertTail])).toEqual([...alertSeq, ...alertTail]);
    const infoSeq = ['language', 'category', 'event', 'responseType', 'urgency', 'severity', 'certainty', 'eventCode'];
    const infoTail = ['expires', 'headline', 'description', 'parameter', 'resource', 'area'];
    expect(order([...infoSeq, ...infoTail])).toEqual([...infoSeq, ...infoTail]);
    const areaSeq = ['areaDesc', 'polygon', 'circle', 'geocode', 'altitude', 'ceiling'];
    expect(order(areaSeq)).toEqual(areaSeq);
    expect(order(['resourceDesc', 'mimeType', 'size', 'uri'])).toEqual(['resourceDesc', 'mimeType', 'size', 'uri']);
    expect(xml).toContain('<references>x@y,old,2026-11-21T00:00:00-00:00</references>');
  });

  it('refuses to write an alert that breaks CAP rules, naming the problem', () => {
    const bad = alert({ sent: '2026-11-22T00:00:00Z', scope: 'Private' });
    expect(() => writeCap(bad)).toThrow(CapWriteError);
    try {
      writeCap(bad);
    } catch (err) {
      expect((err as CapWriteError).issues.map((i) => i.path)).toEqual(['alert/sent', 'alert/addresses']);
    }
    const noCategory = alert();
    noCategory.info[0] = { ...(noCategory.info[0] as CapAlert['info'][number]), category: [] };
    expect(validateCapAlert(noCategory).map((i) => i.message)).toEqual([
      'alert/info[0]/category: at least one is required',
    ]);
    expect(() => writeCap(alert({ note: 'bell \u0007' }))).toThrow(/characters that XML cannot carry/);
  });

  it('round-trips any text XML can carry', () => {
    // Any code points, less those XML 1.0 forbids and CR (which XML turns into LF), trimmed as the parser trims.
    const xmlText = fc
      .string({ unit: 'binary', maxLength: 60 })
      .map((s) => s.replace(/[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').trim());
    fc.assert(
      fc.property(xmlText, xmlText, (note, areaDesc) => {
        const base = alert();
        const info = base.info[0] as CapAlert['info'][number];
        const a = alert({
          note,
          info: [{ ...info, area: [{ areaDesc: `A${areaDesc}`, polygon: [], circle: [], geocode: [] }] }],
        });
        expect(roundTrip(a)).toStrictEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});

describe('CAP helpers', () => {
  it('formats and parses CAP date-times', () => {
    expect(formatCapDateTime(NOW)).toBe('2026-11-22T00:00:00-00:00');
    expect(formatCapDateTime(NOW + 999, 420)).toBe('2026-11-22T07:00:00+07:00');
    expect(formatCapDateTime(NOW, -330)).toBe('2026-11-21T18:30:00-05:30');
    expect(parseCapDateTime('2026-11-22T07:00:00+07:00')).toBe(NOW);
    expect(parseCapDateTime('2026-11-22T00:00:00-00:00')).toBe(NOW);
    expect(parseCapDateTime('2026-11-22T00:00:00Z')).toBeUndefined();
    expect(() => formatCapDateTime(NOW, 15 * 60)).toThrow(RangeError);
  });

  it('splits space-delimited lists with quoted items', () => {
    expect(splitCapList(' rx-0001  "Ban PCTT xã" rx-0002 ')).toEqual(['rx-0001', 'Ban PCTT xã', 'rx-0002']);
  });
});
