import { beforeAll, describe, expect, it } from 'vitest';
import { u, useAlertFixture } from './support/alert-fixture.js';

// A generated province of its own (codes unique to this run), so the alerts published on
// its area topics reach no other test file's subscribers on the shared broker.
const fx = useAlertFixture('AL');
const { P, call, draft, command } = fx;
const database = { db: fx.db };
let communeCode: string;
beforeAll(() => {
  communeCode = fx.province().communes[0] as string;
});

describe('alerts', () => {
  it('cannot issue an Actual alert to the province until a second person approves it', async () => {
    const created = await call('POST', '/alerts', u(`emergency-${P}`), draft());
    expect(created.statusCode, created.body).toBe(201);
    const alert = created.json();
    expect(alert).toMatchObject({
      state: 'draft',
      needsApproval: true,
      approved: false,
      riskColour: { hex: '#D50000' },
    });

    const early = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(early.statusCode).toBe(409);
    expect(early.json().detail).toMatch(/needs a second person's approval/);
    const self = await call('POST', `/alerts/${alert.id}/approve`, u(`emergency-${P}`));
    expect(self.statusCode).toBe(403);
    const official = await call('POST', `/alerts/${alert.id}/approve`, u(`official-${communeCode}`));
    expect(official.statusCode).toBe(403);
    expect(await database.db().alert.findUnique({ where: { id: alert.id } })).toMatchObject({ state: 'draft' });

    const approved = await call('POST', `/alerts/${alert.id}/approve`, u(`emergency2-${P}`));
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      approved: true,
      createdBy: { username: u(`emergency-${P}`) },
      approvedBy: { username: u(`emergency2-${P}`) },
      issuedBy: null,
    });
    expect(approved.json().approvedAt).toEqual(expect.any(String));

    const issued = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(issued.statusCode, issued.body).toBe(200);
    expect(issued.json().alert).toMatchObject({ state: 'issued', issuedBy: { username: u(`emergency-${P}`) } });
    const sent = await command(issued.json().commands[0].id);
    const tones = await database.db().tone.findMany();
    expect(sent).toMatchObject({
      kind: 'alert.issue',
      body: {
        alertId: alert.identifier,
        status: 'Actual',
        riskLevel: 4,
        priority: 'emergency',
        repeat: { everyS: 3600, windowStart: '07:00', windowEnd: '20:00' },
        item: {
          priority: 'emergency',
          startMode: 'hard',
          prelude: 'siren',
          preludeSha256: tones.find((t) => t.name === 'siren-4')?.assetSha256,
          segments: [{ language: 'vie' }],
        },
      },
    });
    const again = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(again.statusCode).toBe(409);
    const audit = await database
      .db()
      .auditLog.findMany({ where: { entity: 'alert', entityId: alert.id }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['create', 'approve', 'issue']);
  });

  it('issues an Actual commune alert at once, and cancels it in one action with a message', async () => {
    const user = u(`emergency-${communeCode}`);
    const created = await call('POST', '/alerts', user, draft({ areas: [communeCode], riskLevel: 2 }));
    expect(created.json()).toMatchObject({ needsApproval: false });
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const cancelled = await call('POST', `/alerts/${created.json().id}/cancel`, user, {
      reason: 'phát nhầm',
      message: { vie: 'Hủy bỏ cảnh báo lũ quét vừa phát. Xin lỗi bà con.' },
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().alert).toMatchObject({
      state: 'cancelled',
      cancelledBy: { username: user },
      cancelReason: 'phát nhầm',
    });
    const [stop, message] = cancelled.json().commands as { id: string }[];
    expect(await command((stop as { id: string }).id)).toMatchObject({
      kind: 'alert.cancel',
      body: { alertId: created.json().identifier, reason: 'phát nhầm' },
    });
    expect(await command((message as { id: string }).id)).toMatchObject({
      kind: 'play.now',
      body: { item: { prelude: 'chime', priority: 'emergency', segments: [{ language: 'vie' }] } },
    });
    expect((await call('POST', `/alerts/${created.json().id}/cancel`, user, {})).statusCode).toBe(409);
    // Each change was announced on /events (draft, issue, cancel), so colleagues' alert bars follow at once;
    // the refused second cancel was not.
    const changes = () => fx.events.filter((e) => e.type === 'alert.changed' && e.alertId === created.json().id);
    await expect.poll(() => changes().length).toBe(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(changes()).toHaveLength(3);
  });

  it('says Exercise and Test alerts are not real, first, in what it synthesises', async () => {
    const user = u(`emergency-${communeCode}`);
    const created = await call('POST', '/alerts', user, draft({ areas: [communeCode], status: 'Exercise' }));
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const sent = await command(issued.json().commands[0].id);
    expect(sent).toMatchObject({ body: { status: 'Exercise' } });
    const sha = (sent.body as { item: { segments: { sha256: string }[] } }).item.segments[0]?.sha256;
    const spoken = await database.db().speechCache.findFirst({ where: { assetSha256: sha } });
    expect(spoken?.text).toMatch(/^Đây là tin diễn tập, không phải tin thật\. Cảnh báo lũ quét cấp bốn\./);
  });

  it('refuses what it must: areas out of scope, a past expiry, no language with audio', async () => {
    const outside = await call('POST', '/alerts', u(`emergency-${communeCode}`), draft({ areas: [P] }));
    expect(outside.statusCode).toBe(403);
    const past = await call(
      'POST',
      '/alerts',
      u(`emergency-${P}`),
      draft({ expiresAt: new Date(Date.now() - 1000).toISOString() }),
    );
    expect(past.statusCode).toBe(400);
    const hmong = await call(
      'POST',
      '/alerts',
      u(`emergency-${communeCode}`),
      draft({ areas: [communeCode], headline: { hmn: 'Dej nyab' }, instruction: {} }),
    );
    const refused = await call('POST', `/alerts/${hmong.json().id}/issue`, u(`emergency-${communeCode}`));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().detail).toMatch(/no audio in any language \(hmn\)/);
    expect((await database.db().alert.findUnique({ where: { id: hmong.json().id } }))?.state).toBe('draft');
  });

  it('shows an issued alert past its expiry as expired, and lists it so', async () => {
    const user = u(`emergency-${communeCode}`);
    const created = await call('POST', '/alerts', user, draft({ areas: [communeCode], status: 'Test' }));
    expect((await call('POST', `/alerts/${created.json().id}/issue`, user)).statusCode).toBe(200);
    await database
      .db()
      .alert.update({ where: { id: created.json().id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await call('GET', `/alerts/${created.json().id}`, user)).json()).toMatchObject({ state: 'expired' });
    const ids = (state: string) =>
      call('GET', `/alerts?state=${state}`, user).then((r) => r.json().items.map((a: { id: string }) => a.id));
    expect(await ids('expired')).toContain(created.json().id);
    expect(await ids('issued')).not.toContain(created.json().id);
  });

  it('says a drill is not real before its recordings too, and refuses one that would air as if real', async () => {
    const user = u(`emergency-${communeCode}`);
    const db = database.db();
    const recording = (await db.tone.findFirstOrThrow({ where: { name: 'chime' } })).assetSha256;
    // Vietnamese has a voice: the notice is spoken, then the recording plays.
    const vie = await call(
      'POST',
      '/alerts',
      user,
      draft({ areas: [communeCode], status: 'Exercise', audio: { vie: recording } }),
    );
    const issued = await call('POST', `/alerts/${vie.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const segments = (
      (await command(issued.json().commands[0].id)).body as { item: { segments: { sha256: string }[] } }
    ).item.segments;
    expect(segments.map((s) => s.sha256)).toHaveLength(2);
    expect(segments[1]?.sha256).toBe(recording);
    expect((await db.speechCache.findFirst({ where: { assetSha256: segments[0]?.sha256 } }))?.text).toBe(
      'Đây là tin diễn tập, không phải tin thật.',
    );
    // Hmong has no voice here: the recording must say it is a test, or the alert is refused.
    const hmong = {
      areas: [communeCode],
      status: 'Test',
      headline: { hmn: 'Dej nyab' },
      instruction: {},
      audio: { hmn: recording },
    };
    const silent = await call('POST', '/alerts', user, draft(hmong));
    const refused = await call('POST', `/alerts/${silent.json().id}/issue`, user);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().detail).toMatch(/would air without saying it is not real/);
    const attested = await call('POST', '/alerts', user, draft({ ...hmong, audioAnnouncesStatus: true }));
    expect((await call('POST', `/alerts/${attested.json().id}/issue`, user)).statusCode).toBe(200);
  });
});
