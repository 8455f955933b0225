import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { contentRoutes } from '../src/content/content-routes.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const PASSWORD = 'correct horse battery staple';
const USERS = ['official-02680', 'official-02683', 'emergency-10', 'technician-10', 'admin'] as const;
type User = (typeof USERS)[number];

let app: FastifyInstance;
let redis: Redis;
const cookies = new Map<User, string>();
/** Content ids passed to the onContentChanged hook of the routes mounted under /hooked. */
const changed: string[] = [];

const RECORDING = 'a1'.repeat(32);
const SECOND_RECORDING = 'b2'.repeat(32);

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: PASSWORD });
  await db.asset.create({
    data: {
      sha256: RECORDING,
      durationMs: 42_000,
      bytes: 84_000,
      format: 'opus',
      mime: 'audio/ogg',
      loudnessLufs: -16,
      truePeakDbtp: -1.5,
    },
  });
  await db.asset.create({
    data: { sha256: SECOND_RECORDING, durationMs: 9_000, bytes: 18_000, format: 'opus', mime: 'audio/ogg' },
  });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({
    db,
    redis,
    loginRateLimit: 100,
    rateLimitNamespace: `test-${randomUUID()}-`,
  });
  // The same routes once more, with the change hook the server wires to re-provisioning.
  await app.register(contentRoutes, {
    db,
    prefix: '/hooked',
    onContentChanged: async (id) => {
      changed.push(id);
    },
  });
  for (const username of USERS) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(response.statusCode, response.body).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'loa_session');
    cookies.set(username, `loa_session=${cookie?.value}`);
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

function as(user: User, headers: Record<string, string> = {}) {
  return { cookie: cookies.get(user) as string, ...headers };
}

interface Variant {
  language: string;
  kind: 'audio' | 'text';
  text: string | null;
  asset: { sha256: string; durationMs: number; loudnessLufs: number | null } | null;
}
interface Content {
  id: string;
  title: string;
  category: string;
  ownerAreaCode: string;
  createdBy: string | null;
  updatedAt: string;
  variants: Variant[];
}
interface Summary {
  id: string;
  title: string;
  ownerAreaCode: string;
  variants: Array<{ language: string; kind: string }>;
}

async function create(user: User, payload: Record<string, unknown>): Promise<Content & { etag: string }> {
  const response = await app.inject({ method: 'POST', url: '/content', headers: as(user), payload });
  expect(response.statusCode, response.body).toBe(201);
  return { ...(response.json() as Content), etag: response.headers.etag as string };
}

async function list(user: User, query = ''): Promise<Summary[]> {
  const items: Summary[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '';
    const response = await app.inject({
      url: `/content?${query}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      headers: as(user),
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { items: Summary[]; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

const announcement = (ownerArea: string, title = 'Thông báo tiêm chủng') => ({
  title,
  category: 'announcement',
  ownerArea,
  variants: [
    { language: 'vie', text: 'Thông báo lịch tiêm chủng cho trẻ em dưới 5 tuổi vào sáng thứ Bảy.' },
    { language: 'hmn', assetSha256: RECORDING },
  ],
});

async function auditRows(entityId: string) {
  return database.db().auditLog.findMany({ where: { entity: 'content', entityId }, orderBy: { id: 'asc' } });
}

describe('content: create, read, list', () => {
  it('creates content with a text and an audio variant, audits it, and serves it with an ETag', async () => {
    const created = await create('official-02680', announcement('02680'));
    expect(created).toMatchObject({
      title: 'Thông báo tiêm chủng',
      category: 'announcement',
      ownerAreaCode: '02680',
      createdBy: 'official-02680',
      variants: [
        {
          language: 'hmn',
          kind: 'audio',
          text: null,
          asset: { sha256: RECORDING, durationMs: 42_000, loudnessLufs: -16, truePeakDbtp: -1.5, mime: 'audio/ogg' },
        },
        { language: 'vie', kind: 'text', asset: null },
      ],
    });
    expect(created.variants[1]?.text).toMatch(/^Thông báo lịch tiêm chủng/);
    expect(created.etag).toMatch(/^"[\w-]{27}"$/);

    const get = await app.inject({ url: `/content/${created.id}`, headers: as('official-02680') });
    expect(get.statusCode).toBe(200);
    expect(get.headers.etag).toBe(created.etag);
    const { etag: _etag, ...body } = created;
    expect(get.json()).toEqual(body);

    const [audit] = await auditRows(created.id);
    expect(audit).toMatchObject({ action: 'create', actorKind: 'user', before: null });
    expect(audit?.after).toMatchObject({ title: 'Thông báo tiêm chủng', ownerAreaCode: '02680' });
    const official = await database.db().user.findUniqueOrThrow({ where: { username: 'official-02680' } });
    expect(audit?.actorId).toBe(official.id);
  });

  it('answers 304 to If-None-Match with the current ETag, 200 with a stale one', async () => {
    const created = await create('official-02680', announcement('02680', 'Lịch họp thôn'));
    const fresh = await app.inject({
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-none-match': created.etag }),
    });
    expect(fresh.statusCode).toBe(304);
    expect(fresh.body).toBe('');
    const stale = await app.inject({
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-none-match': '"something-else"' }),
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.json().title).toBe('Lịch họp thôn');
  });

  it('lists content the caller may see, page by page, with languages and their kinds, and filters', async () => {
    const db = database.db();
    const created = await create('official-02680', {
      title: 'Cảnh báo lũ quét',
      category: 'alert',
      ownerArea: '02680',
      variants: [
        { language: 'vie', text: 'Cảnh báo lũ quét cấp 3.' },
        { language: 'ium', assetSha256: SECOND_RECORDING },
      ],
    });
    const all = await list('official-02680');
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const expected = await db.content.count({ where: { ownerArea: { path: { startsWith: '/10/082/02680/' } } } });
    expect(expected).toBeGreaterThan(3);
    expect(ids).toHaveLength(expected);
    expect(all.every((c) => c.ownerAreaCode === '02680')).toBe(true);
    expect(all.find((c) => c.id === created.id)).toEqual({
      id: created.id,
      title: 'Cảnh báo lũ quét',
      category: 'alert',
      ownerAreaCode: '02680',
      updatedAt: created.updatedAt,
      variants: [
        { language: 'ium', kind: 'audio' },
        { language: 'vie', kind: 'text' },
      ],
    });

    expect((await list('official-02680', 'category=alert')).map((c) => c.id)).toEqual([created.id]);
    expect((await list('official-02680', 'language=ium')).map((c) => c.id)).toEqual([created.id]);
    const hmong = await list('official-02680', 'language=hmn');
    expect(hmong.length).toBeGreaterThan(0);
    expect(hmong.every((c) => c.variants.some((v) => v.language === 'hmn' && v.kind === 'audio'))).toBe(true);
    expect((await list('official-02680', 'area=02680')).map((c) => c.id).sort()).toEqual([...ids].sort());
    // A village is below the commune: content owned by the commune is not "at or below" it.
    expect(await list('official-02680', 'area=02680-01')).toEqual([]);

    const district = await list('emergency-10', 'area=082');
    expect(district.map((c) => c.id)).toContain(created.id);
    expect(new Set(district.map((c) => c.ownerAreaCode))).toEqual(new Set(['02680', '02683', '02701']));
  });

  it('refuses a list narrowed to an unknown area (404) or one out of scope (403)', async () => {
    const unknown = await app.inject({ url: '/content?area=99999', headers: as('official-02680') });
    expect(unknown.statusCode).toBe(404);
    const outside = await app.inject({ url: '/content?area=02683', headers: as('official-02680') });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().detail).toMatch(/no .* role covering area 02683/);
  });

  it('asks for sign-in', async () => {
    expect((await app.inject({ url: '/content' })).statusCode).toBe(401);
    const post = await app.inject({ method: 'POST', url: '/content', payload: announcement('02680') });
    expect(post.statusCode).toBe(401);
  });
});

describe('content: scope', () => {
  it('keeps an official to their own commune: 403 creating, reading, changing or deleting in another', async () => {
    const foreign = await create('official-02683', announcement('02683', 'Thông báo của xã A Lù'));

    const post = await app.inject({
      method: 'POST',
      url: '/content',
      headers: as('official-02680'),
      payload: announcement('02683'),
    });
    expect(post.statusCode).toBe(403);
    expect(post.json().detail).toMatch(/no official\/emergency role covering area 02683/);

    for (const request of [
      { method: 'GET' as const, url: `/content/${foreign.id}` },
      { method: 'PATCH' as const, url: `/content/${foreign.id}`, payload: { title: 'Đổi tên' } },
      { method: 'DELETE' as const, url: `/content/${foreign.id}` },
    ]) {
      const response = await app.inject({ ...request, headers: as('official-02680') });
      expect(response.statusCode, request.method).toBe(403);
    }
    const unchanged = await database.db().content.findUniqueOrThrow({ where: { id: foreign.id } });
    expect(unchanged.title).toBe('Thông báo của xã A Lù');

    const seen = await list('official-02680');
    expect(seen.map((c) => c.id)).not.toContain(foreign.id);
    expect((await list('official-02683')).map((c) => c.id)).toContain(foreign.id);
    expect((await list('admin')).map((c) => c.id)).toContain(foreign.id);
  });

  it('lets emergency staff and admins create content below their grant; technicians only read', async () => {
    const byProvince = await create('emergency-10', announcement('02683', 'Cảnh báo của tỉnh'));
    expect(byProvince.ownerAreaCode).toBe('02683');
    const byAdmin = await create('admin', announcement('10', 'Thông báo toàn tỉnh'));
    expect(byAdmin.ownerAreaCode).toBe('10');

    const technician = await app.inject({
      method: 'POST',
      url: '/content',
      headers: as('technician-10'),
      payload: announcement('02680'),
    });
    expect(technician.statusCode).toBe(403);
    const read = await app.inject({ url: `/content/${byProvince.id}`, headers: as('technician-10') });
    expect(read.statusCode).toBe(200);
    // Content owned by the province is above a commune official's grant.
    const above = await app.inject({ url: `/content/${byAdmin.id}`, headers: as('official-02680') });
    expect(above.statusCode).toBe(403);
  });
});

describe('content: validation', () => {
  async function post(payload: Record<string, unknown>) {
    return app.inject({ method: 'POST', url: '/content', headers: as('official-02680'), payload });
  }
  const base = { title: 'Thông báo', category: 'notice', ownerArea: '02680' };

  it('refuses a language given twice', async () => {
    const response = await post({
      ...base,
      variants: [
        { language: 'vie', text: 'Một' },
        { language: 'vie', text: 'Hai' },
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().detail).toBe('language vie is given twice; give one variant per language');
  });

  it('refuses an unknown language code with the known ones listed', async () => {
    const response = await post({ ...base, variants: [{ language: 'xyz', text: 'Một' }] });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/^body\/variants\/0\/language is not a known language; .*vie, eng, hmn/);
  });

  it('refuses a variant with both text and audio, or with neither', async () => {
    const both = await post({ ...base, variants: [{ language: 'vie', text: 'Một', assetSha256: RECORDING }] });
    expect(both.statusCode).toBe(400);
    expect(both.json().detail).toMatch(/variant vie has both text and assetSha256/);
    const neither = await post({ ...base, variants: [{ language: 'vie' }] });
    expect(neither.statusCode).toBe(400);
    expect(neither.json().detail).toMatch(/variant vie needs text .* or assetSha256/);
    const blank = await post({ ...base, variants: [{ language: 'vie', text: '   ' }] });
    expect(blank.statusCode).toBe(400);
  });

  it('refuses content without variants, a blank title or an unknown category', async () => {
    expect((await post({ ...base, variants: [] })).statusCode).toBe(400);
    const blank = await post({ ...base, title: '  ', variants: [{ language: 'vie', text: 'Một' }] });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().detail).toBe('title must not be blank');
    const category = await post({ ...base, category: 'gossip', variants: [{ language: 'vie', text: 'Một' }] });
    expect(category.statusCode).toBe(400);
    expect(category.json().detail).toBe(
      'body/category must be one of: news, notice, announcement, programme, alert, tone, other',
    );
  });

  it('answers 404 for an unknown owner area and 422 for an unknown audio asset', async () => {
    const area = await post({ ...base, ownerArea: '99999', variants: [{ language: 'vie', text: 'Một' }] });
    expect(area.statusCode).toBe(404);
    expect(area.json().detail).toBe('no area 99999');
    const missing = 'c3'.repeat(32);
    const asset = await post({ ...base, variants: [{ language: 'hmn', assetSha256: missing }] });
    expect(asset.statusCode).toBe(422);
    expect(asset.json().detail).toMatch(new RegExp(`^no audio asset ${missing}; upload the recording first`));
    const malformed = await post({ ...base, variants: [{ language: 'hmn', assetSha256: 'not-a-hash' }] });
    expect(malformed.statusCode).toBe(400);
    expect(await database.db().content.count({ where: { title: 'Thông báo' } })).toBe(0);
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    expect((await app.inject({ url: '/content/not-a-uuid', headers: as('admin') })).statusCode).toBe(400);
    const unknown = await app.inject({ url: `/content/${randomUUID()}`, headers: as('admin') });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toMatch(/^no content /);
  });
});

describe('content: change', () => {
  it('changes title, category and variants with If-Match, audits before and after, and calls the hook', async () => {
    const created = await create('official-02680', announcement('02680', 'Lịch thu thuế'));
    const before = changed.length;
    const response = await app.inject({
      method: 'PATCH',
      url: `/hooked/content/${created.id}`,
      headers: as('official-02680', { 'if-match': created.etag }),
      payload: {
        title: 'Lịch thu thuế (sửa)',
        category: 'notice',
        variants: [
          { language: 'vie', text: 'Lịch thu thuế mới.' },
          { language: 'ium', text: 'Đọc bằng tiếng Dao.' },
        ],
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as Content;
    expect(body).toMatchObject({
      id: created.id,
      title: 'Lịch thu thuế (sửa)',
      category: 'notice',
      variants: [
        { language: 'ium', kind: 'text', text: 'Đọc bằng tiếng Dao.', asset: null },
        { language: 'vie', kind: 'text', text: 'Lịch thu thuế mới.', asset: null },
      ],
    });
    expect(response.headers.etag).toBeDefined();
    expect(response.headers.etag).not.toBe(created.etag);
    expect(changed.slice(before)).toEqual([created.id]);

    const variants = await database.db().contentVariant.findMany({ where: { contentId: created.id } });
    expect(variants.map((v) => v.language).sort()).toEqual(['ium', 'vie']);

    const audit = (await auditRows(created.id)).find((a) => a.action === 'update');
    expect(audit?.before).toMatchObject({ title: 'Lịch thu thuế', category: 'announcement' });
    expect(audit?.after).toMatchObject({ title: 'Lịch thu thuế (sửa)', category: 'notice' });

    const current = await app.inject({
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-none-match': response.headers.etag as string }),
    });
    expect(current.statusCode).toBe(304);
  });

  it('refuses a stale If-Match with 412 and changes nothing', async () => {
    const created = await create('official-02680', announcement('02680', 'Lịch phát loa'));
    const first = await app.inject({
      method: 'PATCH',
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-match': created.etag }),
      payload: { title: 'Lịch phát loa – lần 1' },
    });
    expect(first.statusCode).toBe(200);
    const before = changed.length;
    const second = await app.inject({
      method: 'PATCH',
      url: `/hooked/content/${created.id}`,
      headers: as('official-02680', { 'if-match': created.etag }),
      payload: { title: 'Lịch phát loa – lần 2' },
    });
    expect(second.statusCode).toBe(412);
    expect(second.json()).toMatchObject({ status: 412, title: 'Precondition Failed' });
    expect(changed.length).toBe(before);
    const row = await database.db().content.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.title).toBe('Lịch phát loa – lần 1');
    expect((await auditRows(created.id)).map((a) => a.action)).toEqual(['create', 'update']);
  });

  it('refuses an empty change, bad variants and unknown assets without touching the content', async () => {
    const created = await create('official-02680', announcement('02680', 'Thông báo mất điện'));
    const patch = (payload: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/content/${created.id}`, headers: as('official-02680'), payload });
    const empty = await patch({});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toMatch(/^nothing to change/);
    const duplicate = await patch({
      variants: [
        { language: 'hmn', text: 'a' },
        { language: 'hmn', text: 'b' },
      ],
    });
    expect(duplicate.statusCode).toBe(400);
    const asset = await patch({ variants: [{ language: 'hmn', assetSha256: 'd4'.repeat(32) }] });
    expect(asset.statusCode).toBe(422);
    const none = await patch({ variants: [] });
    expect(none.statusCode).toBe(400);
    const variants = await database.db().contentVariant.findMany({ where: { contentId: created.id } });
    expect(variants.map((v) => v.language).sort()).toEqual(['hmn', 'vie']);
    const unknown = await app.inject({
      method: 'PATCH',
      url: `/content/${randomUUID()}`,
      headers: as('official-02680'),
      payload: { title: 'x' },
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('content: delete', () => {
  it('refuses (409) to delete content a schedule uses, naming the schedule', async () => {
    const db = database.db();
    const schedule = await db.schedule.findFirstOrThrow({
      where: { ownerArea: { code: '02680' } },
      include: { content: true },
    });
    const response = await app.inject({
      method: 'DELETE',
      url: `/content/${schedule.contentId}`,
      headers: as('official-02680'),
    });
    expect(response.statusCode).toBe(409);
    const body = response.json();
    expect(body.detail).toContain(`"${schedule.title}"`);
    expect(body.detail).toMatch(/^content is used by 1 schedule\(s\)/);
    expect(body.schedules).toEqual([{ id: schedule.id, title: schedule.title, ownerAreaCode: '02680' }]);
    expect(await db.content.findUnique({ where: { id: schedule.contentId } })).not.toBeNull();
    expect(await auditRows(schedule.contentId)).toEqual([]);
  });

  it('deletes unused content (204), audits it, and refuses a stale If-Match', async () => {
    const created = await create('official-02680', announcement('02680', 'Thông báo tạm'));
    const patched = await app.inject({
      method: 'PATCH',
      url: `/content/${created.id}`,
      headers: as('official-02680'),
      payload: { title: 'Thông báo tạm (sửa)' },
    });
    expect(patched.statusCode).toBe(200);
    const stale = await app.inject({
      method: 'DELETE',
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-match': created.etag }),
    });
    expect(stale.statusCode).toBe(412);

    const response = await app.inject({
      method: 'DELETE',
      url: `/content/${created.id}`,
      headers: as('official-02680', { 'if-match': patched.headers.etag as string }),
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await app.inject({ url: `/content/${created.id}`, headers: as('official-02680') })).statusCode).toBe(404);
    expect(await database.db().contentVariant.count({ where: { contentId: created.id } })).toBe(0);
    // The recording stays: other content may use it, and it is content-addressed.
    expect(await database.db().asset.findUnique({ where: { sha256: RECORDING } })).not.toBeNull();
    const audit = (await auditRows(created.id)).at(-1);
    expect(audit).toMatchObject({ action: 'delete', after: null });
    expect(audit?.before).toMatchObject({ title: 'Thông báo tạm (sửa)' });

    const again = await app.inject({ method: 'DELETE', url: `/content/${created.id}`, headers: as('official-02680') });
    expect(again.statusCode).toBe(404);
  });
});
