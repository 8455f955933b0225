import { type CapIssue, MAX_CAP_ISSUES, parseCap } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { BASE_CAP, capWith, refusedWith } from './cap-fixtures.js';

const AREA = '<area>\n      <areaDesc>Xã Mường Khương</areaDesc>\n    </area>';
const area = (inner: string) => `<area><areaDesc>A</areaDesc>${inner}</area>`;

/** The refusal of `xml` as "path | code | message" lines, easy to compare exactly. */
function issues(xml: string): string[] {
  return refusedWith(xml).map((i: CapIssue) => `${i.path} | ${i.code} | ${i.message}`);
}

describe('CAP 1.2 rules', () => {
  it('the base document is valid', () => {
    expect(parseCap(BASE_CAP).ok).toBe(true);
  });

  it('required alert elements', () => {
    expect(issues(capWith('<identifier>loa-1</identifier>', ''))).toEqual([
      'alert/identifier | required | alert/identifier: is required',
    ]);
    const none = ['sender', 'sent', 'status', 'msgType', 'scope'].reduce(
      (xml, name) => xml.replace(new RegExp(`<${name}>[^<]*</${name}>`), ''),
      BASE_CAP,
    );
    expect(refusedWith(none).map((i) => i.message)).toEqual([
      'alert/sender: is required',
      'alert/sent: is required',
      'alert/status: is required',
      'alert/msgType: is required',
      'alert/scope: is required',
    ]);
    expect(issues(capWith('<identifier>loa-1</identifier>', '<identifier> </identifier>'))).toEqual([
      'alert/identifier | required | alert/identifier: must not be empty',
    ]);
  });

  it('required info, area and resource elements', () => {
    const bare = capWith(
      `<category>Met</category>
    <event>Lũ quét</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>`,
      '<resource><uri>https://x.example/a</uri></resource>',
    );
    expect(refusedWith(capWith('<areaDesc>Xã Mường Khương</areaDesc>', '', bare)).map((i) => i.message)).toEqual([
      'alert/info[0]/category: at least one is required',
      'alert/info[0]/event: is required',
      'alert/info[0]/urgency: is required',
      'alert/info[0]/severity: is required',
      'alert/info[0]/certainty: is required',
      'alert/info[0]/resource[0]/resourceDesc: is required',
      'alert/info[0]/resource[0]/mimeType: is required',
      'alert/info[0]/area[0]/areaDesc: is required',
    ]);
  });

  it('enumerations', () => {
    const cases: Array<[string, string, string]> = [
      ['<status>Actual</status>', '<status>Real</status>', 'alert/status'],
      ['<msgType>Alert</msgType>', '<msgType>Warning</msgType>', 'alert/msgType'],
      ['<scope>Public</scope>', '<scope>public</scope>', 'alert/scope'],
      ['<category>Met</category>', '<category>Met</category><category>Weather</category>', 'alert/info[0]/category[1]'],
      ['<event>', '<responseType>Run</responseType><event>', 'alert/info[0]/responseType[0]'],
      ['<urgency>Immediate</urgency>', '<urgency>Now</urgency>', 'alert/info[0]/urgency'],
      ['<severity>Severe</severity>', '<severity>High</severity>', 'alert/info[0]/severity'],
      ['<certainty>Likely</certainty>', '<certainty>Very Likely</certainty>', 'alert/info[0]/certainty'], // CAP 1.0's
    ];
    for (const [from, to, path] of cases) {
      const [issue, ...more] = refusedWith(capWith(from, to));
      expect(more).toEqual([]);
      expect(issue?.path).toBe(path);
      expect(issue?.code).toBe('enum');
      expect(issue?.message).toMatch(new RegExp(`^${path.replace(/[[\]]/g, '\\$&')}: '.+' is not one of `));
    }
    expect(issues(capWith('<status>Actual</status>', '<status>Real</status>'))).toEqual([
      "alert/status | enum | alert/status: 'Real' is not one of Actual, Exercise, System, Test, Draft",
    ]);
    for (const status of ['Exercise', 'System', 'Test', 'Draft'])
      expect(parseCap(capWith('<status>Actual</status>', `<status>${status}</status>`)).ok).toBe(true);
  });

  it('restriction when scope is Restricted, addresses when Private', () => {
    const restricted = capWith('<scope>Public</scope>', '<scope>Restricted</scope>');
    expect(issues(restricted)).toEqual([
      "alert/restriction | required | alert/restriction: is required when scope is 'Restricted'",
    ]);
    expect(parseCap(capWith('</scope>', '</scope><restriction>PCTT staff only</restriction>', restricted)).ok).toBe(
      true,
    );
    const priv = capWith('<scope>Public</scope>', '<scope>Private</scope>');
    expect(issues(priv)).toEqual(["alert/addresses | required | alert/addresses: is required when scope is 'Private'"]);
    const addressed = parseCap(capWith('</scope>', '</scope><addresses>rx-0001 "Ban PCTT xã"</addresses>', priv));
    expect(addressed.ok ? addressed.alert.addresses : undefined).toBe('rx-0001 "Ban PCTT xã"');
  });

  it('date-times need a numeric offset; Z, fractions, no zone and impossible dates are refused', () => {
    const sent = (value: string) => capWith('<sent>2026-11-22T07:00:00+07:00</sent>', `<sent>${value}</sent>`);
    expect(issues(sent('2026-11-22T00:00:00Z'))).toEqual([
      "alert/sent | format | alert/sent: '2026-11-22T00:00:00Z' uses 'Z'; CAP 1.2 requires a numeric offset (UTC is -00:00)",
    ]);
    expect(issues(sent('2026-11-22T07:00:00.250+07:00'))[0]).toContain('fractional seconds');
    expect(issues(sent('2026-11-22T07:00:00'))[0]).toContain('has no time zone offset');
    expect(issues(sent('2026-02-30T07:00:00+07:00'))[0]).toContain('not a real calendar date');
    expect(issues(sent('2026-11-22T07:00:00+15:00'))[0]).toContain('offset outside');
    expect(issues(sent('22/11/2026 07:00'))[0]).toContain('is not a CAP date-time like 2002-05-24T16:49:00-07:00');
    for (const ok of ['2026-11-22T00:00:00-00:00', '2026-11-22T00:00:00+00:00', '2024-02-29T23:59:59-14:00'])
      expect(parseCap(sent(ok)).ok, ok).toBe(true);
    const expires = capWith(
      '<certainty>Likely</certainty>',
      '<certainty>Likely</certainty><expires>tomorrow</expires>',
    );
    expect(refusedWith(expires)[0]?.path).toBe('alert/info[0]/expires');
  });

  it('identifier and sender: no spaces, commas, < or &', () => {
    for (const bad of ['loa 1', 'loa,1', 'loa&lt;1', 'loa&amp;1']) {
      expect(issues(capWith('<identifier>loa-1</identifier>', `<identifier>${bad}</identifier>`))).toEqual([
        `alert/identifier | format | alert/identifier: '${bad.replace('&lt;', '<').replace('&amp;', '&')}' must not contain spaces, commas, < or &`,
      ]);
    }
    const sender = capWith('<sender>loa@province-10.gov.vn</sender>', '<sender>loa,province</sender>');
    expect(refusedWith(sender)[0]?.path).toBe('alert/sender');
  });

  it('references: whitespace-separated sender,identifier,sent triples', () => {
    const refs = (value: string) => capWith('</scope>', `</scope><references>${value}</references>`);
    expect(issues(refs('loa@x,loa-0'))).toEqual([
      'alert/references | format | alert/references: \'loa@x,loa-0\' is not "sender,identifier,sent"',
    ]);
    expect(issues(refs('loa@x,loa-0,2026-11-22T00:00:00Z'))).toEqual([
      "alert/references | format | alert/references: reference 1: sent '2026-11-22T00:00:00Z' uses 'Z'; CAP 1.2 requires a numeric offset (UTC is -00:00)",
    ]);
    const two = parseCap(refs(' a@x,1,2026-11-22T00:00:00-00:00\n  b@x,2,2026-11-22T01:00:00-00:00 '));
    expect(two.ok ? two.alert.references.map((r) => r.sender) : []).toEqual(['a@x', 'b@x']);
  });

  it('polygons: 4+ pairs, closed, latitude and longitude in range', () => {
    const poly = (value: string) => capWith(AREA, `${AREA}${area(`<polygon>${value}</polygon>`)}`);
    const P = 'alert/info[0]/area[1]/polygon[0]';
    expect(issues(poly('1,1 2,2 1,1'))).toEqual([`${P} | format | ${P}: has 3 points; at least 4 are required`]);
    expect(issues(poly('1,1 2,2 3,1 1,2'))).toEqual([
      `${P} | format | ${P}: is not closed: the first and last points must be the same`,
    ]);
    expect(issues(poly('91,1 2,2 3,1 91,1'))).toEqual([
      `${P} | range | ${P}: point 1: latitude 91 is outside -90..90`,
      `${P} | range | ${P}: point 4: latitude 91 is outside -90..90`,
    ]);
    expect(issues(poly('1,181 2,2 3,1 1,181'))[0]).toBe(
      `${P} | range | ${P}: point 1: longitude 181 is outside -180..180`,
    );
    expect(issues(poly('1,1 2;2 3,1 1,1'))).toEqual([`${P} | format | ${P}: '2;2' is not a "lat,lon" coordinate pair`]);
    expect(issues(poly('1,1 2,2 3,1 1,1e2'))[0]).toContain("'1,1e2' is not");
    const second = capWith('</polygon>', '</polygon><polygon>0,0 1,1 0,0</polygon>', poly('1,1 2,2 3,1 1,1'));
    expect(refusedWith(second).map((i) => i.path)).toEqual(['alert/info[0]/area[1]/polygon[1]']);
  });

  it('circles: "lat,lon radius", radius 0 or more, centre in range', () => {
    const circle = (value: string) => capWith(AREA, area(`<circle>${value}</circle>`));
    const C = 'alert/info[0]/area[0]/circle[0]';
    expect(parseCap(circle('22.77,104.11 2.5')).ok).toBe(true);
    expect(issues(circle('22.77,104.11'))).toEqual([
      `${C} | format | ${C}: '22.77,104.11' is not a circle "lat,lon radius" (radius in km)`,
    ]);
    expect(issues(circle('22.77,104.11 -1'))).toEqual([
      `${C} | range | ${C}: radius must be a number of km, 0 or more`,
    ]);
    expect(issues(circle('-95,104.11 1'))).toEqual([`${C} | range | ${C}: centre: latitude -95 is outside -90..90`]);
  });

  it('geocode, parameter and eventCode need valueName and value', () => {
    const geocode = capWith(AREA, area('<geocode><value>02707</value></geocode>'));
    expect(issues(geocode)).toEqual([
      'alert/info[0]/area[0]/geocode[0]/valueName | required | alert/info[0]/area[0]/geocode[0]/valueName: is required',
    ]);
    const parameter = capWith('</certainty>', '</certainty><parameter><valueName>x</valueName></parameter>');
    expect(refusedWith(parameter).map((i) => i.path)).toEqual(['alert/info[0]/parameter[0]/value']);
    const eventCode = capWith(
      '</certainty>',
      '</certainty><eventCode><valueName></valueName><value>1</value></eventCode>',
    );
    expect(refusedWith(eventCode).map((i) => i.message)).toEqual([
      'alert/info[0]/eventCode[0]/valueName: must not be empty',
    ]);
  });

  it('unknown CAP elements, repeats and misplaced text are refused; other namespaces are ignored', () => {
    expect(issues(capWith('<scope>', '<priority>high</priority><scope>'))).toEqual([
      'alert/priority | unknown_element | alert/priority: <priority> is not a CAP 1.2 element here',
    ]);
    expect(refusedWith(capWith(AREA, area('<areaCode>1</areaCode>')))[0]?.path).toBe('alert/info[0]/area[0]/areaCode');
    expect(
      issues(capWith('<identifier>loa-1</identifier>', '<identifier>a</identifier><identifier>b</identifier>')),
    ).toEqual(['alert/identifier | duplicate | alert/identifier: appears 2 times; CAP allows one']);
    expect(issues(capWith('<info>', '<info>stray text'))).toEqual([
      'alert/info[0] | structure | alert/info[0]: has text outside its child elements',
    ]);
    expect(issues(capWith('<event>Lũ quét</event>', '<event>Lũ <headline>x</headline></event>'))).toEqual([
      'alert/info[0]/event | structure | alert/info[0]/event: must contain text only, not elements',
    ]);
    for (const name of ['constructor', 'toString', '__proto__'])
      expect(refusedWith(capWith('<scope>', `<${name}>x</${name}><scope>`))[0]?.code).toBe('unknown_element');
    const foreign = capWith('<info>', '<ext:priority xmlns:ext="urn:loa:ext">high</ext:priority><info>');
    expect(parseCap(foreign).ok).toBe(true);
  });

  it('numbers, URIs, languages and MIME types', () => {
    const res = (inner: string) =>
      capWith('</certainty>', `</certainty><resource><resourceDesc>r</resourceDesc>${inner}</resource>`);
    const R = 'alert/info[0]/resource[0]';
    expect(issues(res('<mimeType>audio/ogg</mimeType><size>1.5</size>'))).toEqual([
      `${R}/size | format | ${R}/size: '1.5' is not a whole number of bytes`,
    ]);
    expect(issues(res('<mimeType>audio</mimeType>'))[0]).toContain("'audio' is not a MIME type");
    expect(issues(res('<mimeType>audio/ogg</mimeType><uri>audio/a.ogg</uri>'))[0]).toContain('is not an absolute URI');
    expect(parseCap(res('<mimeType>audio/ogg</mimeType><uri>a.ogg</uri><derefUri>T2dnUw==</derefUri>')).ok).toBe(true);
    expect(issues(res('<mimeType>audio/ogg</mimeType><derefUri>not base64!</derefUri>'))[0]).toContain('base64');
    expect(issues(capWith('</certainty>', '</certainty><web>www.example</web>'))[0]).toContain(
      "alert/info[0]/web: 'www.example' is not an absolute URI",
    );
    expect(issues(capWith('<info>', '<info><language>vi_VN</language>'))[0]).toContain('is not a language tag');
    expect(issues(capWith(AREA, area('<altitude>high</altitude>')))[0]).toContain("'high' is not a decimal number");
    expect(issues(capWith(AREA, area('<ceiling>100</ceiling>')))).toEqual([
      'alert/info[0]/area[0]/ceiling | structure | alert/info[0]/area[0]/ceiling: may only be given together with altitude',
    ]);
  });

  it('reports many problems at once, but at most MAX_CAP_ISSUES', () => {
    const several = capWith(
      '<status>Actual</status>',
      '<status>x</status>',
      capWith('<scope>Public</scope>', '<scope>y</scope>'),
    );
    expect(refusedWith(several).map((i) => i.path)).toEqual(['alert/status', 'alert/scope']);
    const bad = area('<polygon>0,0 1,1 0,0</polygon>').repeat(200);
    expect(refusedWith(capWith(AREA, bad))).toHaveLength(MAX_CAP_ISSUES);
  });
});
