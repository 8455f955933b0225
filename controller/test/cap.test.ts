import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CapAlert, formatCapDateTime, parseAtomFeed, parseCap, writeCap } from '@loa/protocols';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollFeed } from '../src/cap/cap-feed-poller.js';
import { u, useAlertFixture } from './support/alert-fixture.js';

const SENDER = 'canhbao@kttv.test';
let commune0: string;
let commune1: string;
/** The app's CAP policy: the routes read this very map, so a test trusts a sender by adding it. */
const POLICY = { ownSender: 'loa-test', trusted: new Map<string, string[]>(), geocodeNames: ['VN-GSO'] };
const policyTrust = (sender: string, areas: string[]) => POLICY.trusted.set(sender, areas);
const fx = useAlertFixture('CP', { cap: POLICY });
const { P, call, draft, command } = fx;

beforeAll(() => {
  commune0 = fx.province().communes[0] as string;
  commune1 = fx.province().communes[1] as string;
});

const cap = (over: Partial<CapAlert> = {}, area: Partial<CapAlert['info'][0]['area'][0]> = {}): CapAlert => ({
  identifier: `kttv-${randomUUID()}`,
  sender: SENDER,
  sent: formatCapDateTime(Date.now(), 420),
  status: 'Exercise',
  msgType: 'Alert',
  scope: 'Public',
  code: [],
  references: [],
  info: [
    {
      language: 'vi-VN',
      category: ['Met'],
      event: 'Lũ quét',
      responseType: ['Evacuate'],
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      eventCode: [],
      expires: formatCapDateTime(Date.now() + 3 * 3600_000, 420),
      headline: 'Cảnh báo lũ quét',
      instruction: 'Di chuyển lên vùng cao.',
      parameter: [{ valueName: 'riskLevel', value: '3' }],
      resource: [],
      area: [
        { areaDesc: 'Xã thử', polygon: [], circle: [], geocode: [{ valueName: 'VN-GSO', value: commune0 }], ...area },
      ],
    },
    {
      language: 'fr-FR',
      category: ['Met'],
      event: 'Crue',
      responseType: [],
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      eventCode: [],
      parameter: [],
      resource: [],
      area: [],
    },
  ],
  ...over,
});

const post = (body: string | Buffer, user = u(`emergency-${P}`), type = 'application/cap+xml') =>
  fx.app().inject({
    method: 'POST',
    url: '/cap',
    headers: { cookie: fx.cookie(user), 'content-type': type },
    payload: body,
  });

describe('CAP 1.2', () => {
  it('takes a trusted sender’s alert in as a draft for a person to approve and issue', async () => {
    policyTrust(SENDER, [P]);
    const message = cap();
    const taken = await post(writeCap(message));
    expect(taken.statusCode, taken.body).toBe(201);
    expect(taken.json()).toMatchObject({ outcome: 'draft' });
    const alert = (await call('GET', `/alerts/${taken.json().alertId}`, u(`emergency-${P}`))).json();
    expect(alert).toMatchObject({
      state: 'draft',
      origin: 'cap',
      status: 'Exercise',
      hazard: 'flash_flood',
      riskLevel: 3,
      headline: { vie: 'Cảnh báo lũ quét' },
      instruction: { vie: 'Di chuyển lên vùng cao.' },
      areas: [commune0],
    });
    // The same message again is a duplicate, and makes nothing.
    const again = await post(writeCap(message));
    expect(again.json()).toMatchObject({ outcome: 'duplicate' });
    expect(await fx.db().alert.count({ where: { capIdentifier: message.identifier } })).toBe(1);
  });

  it('refuses what it must, saying why: untrusted senders, areas outside the sender’s, invalid and hostile XML', async () => {
    policyTrust(SENDER, [P]);
    const stranger = await post(writeCap(cap({ sender: 'someone@else.test' })));
    expect(stranger.statusCode).toBe(422);
    expect(stranger.json().detail).toMatch(/not trusted/);
    policyTrust('commune-only@kttv.test', [commune1]);
    const beyond = await post(writeCap(cap({ sender: 'commune-only@kttv.test' })));
    expect(beyond.statusCode).toBe(422);
    expect(beyond.json().detail).toMatch(/no emergency role covering area|no receiver/);
    const system = await post(writeCap(cap({ status: 'System' })));
    expect(system.json().detail).toMatch(/not for broadcasting/);

    const xxe = `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>`;
    const refused = await post(xxe);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors[0]).toMatchObject({ code: 'doctype' });
    const old = await post(writeCap(cap()).replace('emergency:cap:1.2', 'emergency:cap:1.1'));
    expect(old.statusCode).toBe(400);
    expect(old.json().detail).toMatch(/1\.1/);
    const broken = await post(writeCap(cap()).replace(/<status>Exercise<\/status>/, '<status>Real</status>'));
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0].path).toBe('alert/status');
    const huge = await post(Buffer.alloc(300 * 1024, 'a'));
    expect(huge.statusCode).toBe(413);
    const json = await post('{"identifier":"x"}', u(`emergency-${P}`), 'application/json');
    expect(json.statusCode).toBe(415);
    expect(await fx.db().capMessage.count({ where: { outcome: 'refused' } })).toBeGreaterThanOrEqual(3);
  });

  it('exports alerts as CAP 1.2 that round-trips, serves them publicly once issued, and lists them per area in Atom', async () => {
    const user = u(`emergency-${commune0}`);
    const created = await call('POST', '/alerts', user, draft({ status: 'Exercise', areas: [commune0], riskLevel: 2 }));
    const alert = created.json();
    const exported = await call('GET', `/alerts/${alert.id}/cap`, user);
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.headers['content-type']).toMatch(/application\/cap\+xml/);
    const parsed = parseCap(exported.body);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.alert).toMatchObject({
      identifier: alert.identifier,
      sender: 'loa-test',
      status: 'Exercise',
      msgType: 'Alert',
      info: [
        {
          language: 'vi-VN',
          headline: 'Cảnh báo lũ quét cấp 4',
          severity: 'Moderate',
          parameter: [{ valueName: 'riskLevel', value: '2' }],
          area: [{ geocode: [{ valueName: 'VN-GSO', value: commune0 }] }],
        },
      ],
    });
    // Our own export, sent back in by a trusted sender, makes the same alert.
    policyTrust(SENDER, [P]);
    const back = await post(exported.body.replace('<sender>loa-test</sender>', `<sender>${SENDER}</sender>`));
    const copy = (await call('GET', `/alerts/${back.json().alertId}`, user)).json();
    for (const field of ['status', 'hazard', 'riskLevel', 'headline', 'instruction', 'areas'])
      expect(copy[field], field).toEqual(alert[field]);

    // Drafts are not public; issued alerts are, and the commune's feed lists them.
    expect((await fx.app().inject({ url: `/cap/alerts/${alert.identifier}` })).statusCode).toBe(404);
    expect((await call('POST', `/alerts/${alert.id}/issue`, user)).statusCode).toBe(200);
    const feed = await fx.app().inject({ url: `/cap/feeds/${fx.province().villages[0]?.code}` });
    expect(feed.statusCode).toBe(200);
    const atom = parseAtomFeed(feed.body);
    if (!atom.ok) throw new Error(JSON.stringify(atom.errors));
    const entry = atom.feed.entries.find((e) => e.id.endsWith(alert.identifier));
    expect(entry?.title).toMatch(/^\[Exercise\]/);
    const href = entry?.links[0]?.href as string;
    const doc = await fx.app().inject({ url: new URL(href).pathname });
    expect(doc.statusCode).toBe(200);
    expect(parseCap(doc.body)).toMatchObject({ ok: true, alert: { identifier: alert.identifier } });
    const other = parseAtomFeed((await fx.app().inject({ url: `/cap/feeds/${commune1}` })).body);
    expect(other.ok && other.feed.entries.some((e) => e.id.endsWith(alert.identifier))).toBe(false);
  });

  it('an Update from the sender becomes a draft Update of the alert on air; its Cancel stops it at once', async () => {
    policyTrust(SENDER, [P]);
    const first = cap({ status: 'Test' });
    const taken = (await post(writeCap(first))).json();
    const issuer = u(`emergency-${commune0}`);
    const issued = await call('POST', `/alerts/${taken.alertId}/issue`, issuer);
    expect(issued.statusCode, issued.body).toBe(200);
    const ref = { sender: SENDER, identifier: first.identifier, sent: first.sent };
    const update = cap({ status: 'Test', msgType: 'Update', references: [ref] });
    const updated = await post(writeCap(update));
    expect(updated.json()).toMatchObject({ outcome: 'update' });
    expect((await call('GET', `/alerts/${updated.json().alertId}`, issuer)).json()).toMatchObject({
      state: 'draft',
      revision: 1,
      references: taken.alertId,
    });
    // A Cancel naming the first message cancels the chain: the receivers are told at once.
    const cancel = cap({ status: 'Test', msgType: 'Cancel', references: [ref], note: 'nhầm' });
    const cancelled = await post(writeCap(cancel));
    expect(cancelled.json(), cancelled.body).toMatchObject({ outcome: 'cancelled' });
    const stop = await fx
      .db()
      .dispatchedCommand.findFirst({ where: { kind: 'alert.cancel' }, orderBy: { issuedAt: 'desc' } });
    expect(await command(stop?.id as string)).toMatchObject({ kind: 'alert.cancel', body: { reason: 'nhầm' } });
    expect((await call('GET', `/alerts/${taken.alertId}`, issuer)).json()).toMatchObject({ state: 'cancelled' });
  });
});

describe('CAP feed polling', () => {
  let server: Server;
  let base: string;
  const docs = new Map<string, string>();
  let feedXml = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = req.url === '/feed.atom' ? feedXml : docs.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const entry = (id: string, href: string) =>
    `<entry><id>${id}</id><title>t</title><updated>2026-12-02T00:00:00Z</updated><link rel="alternate" type="application/cap+xml" href="${href}"/></entry>`;

  it('takes in the new entries of an Atom feed once, and remembers a hostile one without harm', async () => {
    policyTrust(SENDER, [P]);
    const good = cap();
    docs.set('/good.xml', writeCap(good));
    docs.set(
      '/bomb.xml',
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><alert>&lol2;</alert>`,
    );
    feedXml = `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:test</id><title>KTTV</title><updated>2026-12-02T00:00:00Z</updated>${entry('urn:a', '/good.xml')}${entry('urn:b', `${base}/bomb.xml`)}${entry('urn:c', '/missing.xml')}</feed>`;
    const deps = { ...fx.deps(), policy: POLICY, escalateAfterS: 60 };
    const first = await pollFeed(deps, `${base}/feed.atom`);
    expect(first.entries).toBe(3);
    expect(first.taken.map((t) => t.outcome)).toEqual(['draft']);
    expect(first.errors.join('\n')).toMatch(/DOCTYPE|doctype/);
    expect(first.errors.join('\n')).toMatch(/404/);
    expect(await fx.db().alert.count({ where: { capIdentifier: good.identifier } })).toBe(1);
    // Next poll: the taken and the refused entries are not fetched again; the missing one is tried again.
    const second = await pollFeed(deps, `${base}/feed.atom`);
    expect(second.taken).toEqual([]);
    expect(second.errors).toHaveLength(1);
    expect(second.errors[0]).toMatch(/urn:c/);
  });

  it('lists what came in and what became of it (GET /cap/messages), newest first, for emergency staff only', async () => {
    policyTrust(SENDER, [P]);
    const message = cap();
    const taken = await post(writeCap(message));
    expect(taken.statusCode, taken.body).toBe(201);
    const stranger = cap({ sender: 'nobody@else.test' });
    expect((await post(writeCap(stranger))).statusCode).toBe(422);
    const inbox = await call('GET', '/cap/messages', u(`emergency-${commune0}`));
    expect(inbox.statusCode, inbox.body).toBe(200);
    const items = inbox.json().items as Array<{ identifier: string; outcome: string }>;
    const mine = items.findIndex((i) => i.identifier === message.identifier);
    const refused = items.findIndex((i) => i.identifier === stranger.identifier);
    expect(items[mine]).toMatchObject({
      sender: SENDER,
      msgType: 'Alert',
      outcome: 'draft',
      source: `post ${u(`emergency-${P}`)}`,
      alert: { id: taken.json().alertId, state: 'draft', status: 'Exercise', riskLevel: 3 },
    });
    expect(items[refused]).toMatchObject({
      outcome: 'refused',
      alert: null,
      detail: expect.stringMatching(/not trusted/),
    });
    expect(refused).toBeLessThan(mine);
    const onlyRefused = await call('GET', '/cap/messages?outcome=refused', u(`emergency-${commune0}`));
    expect((onlyRefused.json().items as Array<{ outcome: string }>).every((i) => i.outcome === 'refused')).toBe(true);
    expect((await call('GET', '/cap/messages', u(`official-${commune0}`))).statusCode).toBe(403);
  });
});
