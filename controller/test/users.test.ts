import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'mưa lũ về sớm năm nay';
let app: FastifyInstance;
let redis: Redis;
let admin: string;
const testStart = new Date();
/** Every secret handed out in this file; none may ever show up in the audit trail. */
const secrets = [PASSWORD, NEW_PASSWORD];

beforeAll(async () => {
  await seedDemoProvince(database.db(), { password: PASSWORD });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db: database.db(), redis, loginRateLimit: 1000, rateLimitNamespace: `test-${randomUUID()}-` });
  admin = await signIn('admin');
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

async function signIn(username: string, password = PASSWORD): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  expect(response.statusCode, response.body).toBe(200);
  const cookie = response.cookies.find((c) => c.name === 'loa_session');
  expect(cookie?.httpOnly).toBe(true);
  return `loa_session=${cookie?.value}`;
}

type Auth = string | { bearer: string };
function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  auth?: Auth,
  payload?: object,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const credentials =
    auth === undefined ? {} : typeof auth === 'string' ? { cookie: auth } : { authorization: `Bearer ${auth.bearer}` };
  return app.inject({ method, url, headers: { ...credentials, ...headers }, ...(payload ? { payload } : {}) });
}

interface UserView {
  id: string;
  username: string;
  displayName: string;
  locale: string;
  active: boolean;
  grants: Array<{ id: string; role: string; areaCode: string }>;
}

async function createUser(
  by: string,
  username: string,
  grants: Array<{ role: string; areaCode: string }>,
  password = PASSWORD,
): Promise<UserView> {
  const response = await call('POST', '/users', by, {
    username,
    displayName: `Người dùng ${username}`,
    password,
    grants,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as UserView;
}

async function userId(username: string): Promise<string> {
  return (await database.db().user.findUniqueOrThrow({ where: { username } })).id;
}

async function getAll<T>(auth: Auth, url: string, limit = 50): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const response = await call('GET', `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, auth);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { items: T[]; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

const usernames = (users: UserView[]) => users.map((u) => u.username);

describe('users: administrators only', () => {
  it('asks for sign-in, and refuses non-admins with 403', async () => {
    expect((await call('GET', '/users')).statusCode).toBe(401);
    expect((await call('GET', '/audit')).statusCode).toBe(401);
    const adminId = await userId('admin');
    for (const username of ['official-02680', 'emergency-10', 'technician-10', 'emergency-082']) {
      const cookie = await signIn(username);
      for (const [method, url] of [
        ['GET', '/users'],
        ['GET', `/users/${adminId}`],
        ['GET', '/audit'],
      ] as const) {
        const response = await call(method, url, cookie);
        expect(response.statusCode, `${username} ${url}`).toBe(403);
        expect(response.json().detail).toMatch(/administrators only/);
      }
      const create = await call('POST', '/users', cookie, {
        username: `sneaky-${username}`,
        displayName: 'x',
        password: 'a perfectly long password',
        grants: [{ role: 'admin', areaCode: '02680' }],
      });
      expect(create.statusCode).toBe(403);
      const grant = await call('POST', `/users/${await userId(username)}/grants`, cookie, {
        role: 'admin',
        areaCode: '10',
      });
      expect(grant.statusCode).toBe(403);
    }
    expect(await database.db().user.count({ where: { username: { startsWith: 'sneaky-' } } })).toBe(0);
  });
});

describe('users: creating', () => {
  it('creates a user who can sign in and sees only the area of its grant', async () => {
    const response = await call('POST', '/users', admin, {
      username: 'official-new-02683',
      displayName: 'Cán bộ mới',
      password: NEW_PASSWORD,
      locale: 'en',
      grants: [{ role: 'official', areaCode: '02683' }],
    });
    expect(response.statusCode, response.body).toBe(201);
    const user = response.json() as UserView;
    expect(user).toMatchObject({
      username: 'official-new-02683',
      displayName: 'Cán bộ mới',
      locale: 'en',
      active: true,
      grants: [{ role: 'official', areaCode: '02683' }],
    });
    expect(response.headers.location).toBe(`/users/${user.id}`);
    expect(response.headers.etag).toBeTruthy();
    expect(response.body).not.toMatch(/password|argon2/i);
    const stored = await database.db().user.findUniqueOrThrow({ where: { id: user.id } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);

    const cookie = await signIn('official-new-02683', NEW_PASSWORD);
    expect((await call('GET', '/auth/me', cookie)).json()).toMatchObject({
      username: 'official-new-02683',
      locale: 'en',
      grants: [{ role: 'official', areaCode: '02683' }],
    });
    const receivers = await getAll<{ id: string }>(cookie, '/receivers');
    expect(receivers).toHaveLength(25);
    expect(receivers.every((r) => r.id.startsWith('rx-02683-'))).toBe(true);
    expect((await call('GET', '/receivers?area=02680', cookie)).statusCode).toBe(403);
    const wrong = await call('POST', '/auth/login', undefined, { username: 'official-new-02683', password: PASSWORD });
    expect(wrong.statusCode).toBe(401);
  });

  it('refuses a taken username (409), weak passwords and malformed input (400), unknown areas (404)', async () => {
    const base = {
      displayName: 'x',
      password: 'a perfectly long password',
      grants: [{ role: 'official', areaCode: '02680' }],
    };
    const duplicate = await call('POST', '/users', admin, { ...base, username: 'official-02680' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ status: 409, title: 'Conflict' });
    const weak = await call('POST', '/users', admin, { ...base, username: 'weak-user', password: '12345678901' });
    expect(weak.statusCode).toBe(400);
    expect(JSON.stringify(weak.json().errors)).toMatch(/password/);
    for (const bad of [
      { ...base, username: 'Upper Case' },
      { ...base, username: 'no-grants', grants: [] },
      { ...base, username: 'bad-role', grants: [{ role: 'root', areaCode: '10' }] },
    ]) {
      const response = await call('POST', '/users', admin, bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
    }
    const unknown = await call('POST', '/users', admin, {
      ...base,
      username: 'nowhere',
      grants: [{ role: 'official', areaCode: '99999' }],
    });
    expect(unknown.statusCode).toBe(404);
    // Unknown properties are refused: a forged hash can never be smuggled in.
    const forged = await call('POST', '/users', admin, {
      ...base,
      username: 'forged-hash',
      passwordHash: '$argon2id$x',
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().detail).toMatch(/unknown property "passwordHash"/);
    for (const username of ['weak-user', 'no-grants', 'bad-role', 'nowhere', 'forged-hash']) {
      expect(await database.db().user.findUnique({ where: { username } })).toBeNull();
    }
  });

  it('lists users page by page for the province admin, with area and role filters', async () => {
    const all = await getAll<UserView>(admin, '/users', 7);
    expect(all.length).toBe(await database.db().user.count());
    expect(new Set(all.map((u) => u.id)).size).toBe(all.length);
    expect(JSON.stringify(all)).not.toMatch(/password|argon2/i);
    const officials082 = usernames(await getAll<UserView>(admin, '/users?area=082&role=official', 2));
    expect(officials082.sort()).toEqual(['official-02680', 'official-02683', 'official-02701', 'official-new-02683']);
    const in02824 = usernames(await getAll<UserView>(admin, '/users?area=02824'));
    expect(in02824.sort()).toEqual(['emergency-02824', 'official-02824']);
    expect((await call('GET', '/users?area=99999', admin)).statusCode).toBe(404);
  });

  it('answers one user with an ETag and 304 when unchanged', async () => {
    const id = await userId('official-02680');
    const response = await call('GET', `/users/${id}`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      username: 'official-02680',
      grants: [{ role: 'official', areaCode: '02680' }],
    });
    const etag = response.headers.etag as string;
    expect((await call('GET', `/users/${id}`, admin, undefined, { 'if-none-match': etag })).statusCode).toBe(304);
    expect((await call('GET', `/users/${randomUUID()}`, admin)).statusCode).toBe(404);
    expect((await call('GET', '/users/not-a-uuid', admin)).statusCode).toBe(400);
  });
});

describe('users: district administrators', () => {
  let district: string;
  beforeAll(async () => {
    await createUser(admin, 'admin-082', [{ role: 'admin', areaCode: '082' }]);
    district = await signIn('admin-082');
  });

  it('lists only users with a grant inside the district', async () => {
    const seen = usernames(await getAll<UserView>(district, '/users'));
    for (const u of ['official-02680', 'emergency-082', 'technician-082', 'emergency-02701', 'admin-082'])
      expect(seen).toContain(u);
    for (const u of ['admin', 'emergency-10', 'technician-10', 'official-02824', 'emergency-085'])
      expect(seen).not.toContain(u);
    expect((await call('GET', '/users?area=085', district)).statusCode).toBe(403);
    expect((await call('GET', '/users?area=10', district)).statusCode).toBe(403);
    expect(usernames(await getAll<UserView>(district, '/users?area=02701&role=emergency'))).toEqual([
      'emergency-02701',
    ]);
    expect((await call('GET', `/users/${await userId('official-02824')}`, district)).statusCode).toBe(403);
    expect((await call('GET', `/users/${await userId('admin')}`, district)).statusCode).toBe(403);
  });

  it('grants only on areas inside the district', async () => {
    await createUser(district, 'official-02701-b', [{ role: 'official', areaCode: '02701' }]);
    for (const grants of [
      [{ role: 'official', areaCode: '02824' }],
      [{ role: 'admin', areaCode: '10' }],
      [
        { role: 'official', areaCode: '02701' },
        { role: 'official', areaCode: '02824' },
      ],
    ]) {
      const response = await call('POST', '/users', district, {
        username: 'reaching-out',
        displayName: 'x',
        password: 'a perfectly long password',
        grants,
      });
      expect(response.statusCode, JSON.stringify(grants)).toBe(403);
    }
    expect(await database.db().user.findUnique({ where: { username: 'reaching-out' } })).toBeNull();
    const own = await userId('official-02701-b');
    expect((await call('POST', `/users/${own}/grants`, district, { role: 'admin', areaCode: '085' })).statusCode).toBe(
      403,
    );
    const granted = await call('POST', `/users/${own}/grants`, district, { role: 'emergency', areaCode: '02701' });
    expect(granted.statusCode, granted.body).toBe(201);
    expect(granted.json()).toMatchObject({ role: 'emergency', areaCode: '02701' });
    const again = await call('POST', `/users/${own}/grants`, district, { role: 'emergency', areaCode: '02701' });
    expect(again.statusCode).toBe(409);
  });

  it('cannot change users who also act outside the district, only its part of their grants', async () => {
    const both = await createUser(admin, 'official-two-districts', [
      { role: 'official', areaCode: '02680' },
      { role: 'official', areaCode: '02824' },
    ]);
    const read = await call('GET', `/users/${both.id}`, district);
    expect(read.statusCode).toBe(200);
    const patch = await call('PATCH', `/users/${both.id}`, district, { password: 'taking this user over' });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().detail).toMatch(/outside your area/);
    const outside = both.grants.find((g) => g.areaCode === '02824') as { id: string };
    const inside = both.grants.find((g) => g.areaCode === '02680') as { id: string };
    expect((await call('DELETE', `/users/${both.id}/grants/${outside.id}`, district)).statusCode).toBe(403);
    expect((await call('DELETE', `/users/${both.id}/grants/${inside.id}`, district)).statusCode).toBe(204);
    expect((await call('DELETE', `/users/${both.id}/grants/${inside.id}`, district)).statusCode).toBe(404);
    const after = (await call('GET', `/users/${both.id}`, admin)).json() as UserView;
    expect(after.grants).toEqual([{ id: outside.id, role: 'official', areaCode: '02824' }]);
    // Now it has no grant in the district at all.
    expect((await call('GET', `/users/${both.id}`, district)).statusCode).toBe(403);

    const local = await call('PATCH', `/users/${await userId('official-02701')}`, district, {
      displayName: 'Cán bộ văn hóa xã (đổi tên)',
    });
    expect(local.statusCode, local.body).toBe(200);
    const adminGrant = (await database.db().roleGrant.findFirstOrThrow({ where: { user: { username: 'admin' } } })).id;
    expect((await call('DELETE', `/users/${await userId('admin')}/grants/${adminGrant}`, district)).statusCode).toBe(
      403,
    );
  });
});

describe('users: changing', () => {
  it('changes a user with If-Match and refuses a stale ETag with 412', async () => {
    const user = await createUser(admin, 'technician-patch', [{ role: 'technician', areaCode: '02680' }]);
    const first = await call('GET', `/users/${user.id}`, admin);
    const etag = first.headers.etag as string;
    const changed = await call(
      'PATCH',
      `/users/${user.id}`,
      admin,
      { displayName: 'Kỹ thuật viên', locale: 'en' },
      {
        'if-match': etag,
      },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ displayName: 'Kỹ thuật viên', locale: 'en' });
    const newEtag = changed.headers.etag as string;
    expect(newEtag).not.toBe(etag);
    const stale = await call('PATCH', `/users/${user.id}`, admin, { displayName: 'Lost update' }, { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    expect((await call('GET', `/users/${user.id}`, admin, undefined, { 'if-none-match': newEtag })).statusCode).toBe(
      304,
    );
    expect((await call('PATCH', `/users/${user.id}`, admin, {})).statusCode).toBe(400);
    expect((await call('PATCH', `/users/${user.id}`, admin, { password: 'too short' })).statusCode).toBe(400);
    expect((await call('PATCH', `/users/${user.id}`, admin, { username: 'renamed' })).statusCode).toBe(400);
  });

  it('deactivation ends the sessions and stops the API tokens of the user', async () => {
    const user = await createUser(admin, 'official-leaving', [{ role: 'official', areaCode: '02680' }]);
    const cookie = await signIn('official-leaving');
    const created = await call('POST', '/auth/tokens', cookie, { name: 'script' });
    expect(created.statusCode).toBe(201);
    const bearer = { bearer: created.json().token as string };
    secrets.push(bearer.bearer);
    expect((await call('GET', '/auth/me', bearer)).statusCode).toBe(200);

    const off = await call('PATCH', `/users/${user.id}`, admin, { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    expect(await database.db().session.count({ where: { userId: user.id } })).toBe(0);
    expect((await call('GET', '/auth/me', cookie)).statusCode).toBe(401);
    expect((await call('GET', '/auth/me', bearer)).statusCode).toBe(401);
    expect((await call('GET', '/receivers', bearer)).statusCode).toBe(401);
    const login = await call('POST', '/auth/login', undefined, { username: 'official-leaving', password: PASSWORD });
    expect(login.statusCode).toBe(401);

    // Reactivated, the user signs in again; its tokens were suspended, not revoked.
    expect((await call('PATCH', `/users/${user.id}`, admin, { active: true })).statusCode).toBe(200);
    await signIn('official-leaving');
    expect((await call('GET', '/auth/me', bearer)).statusCode).toBe(200);
  });

  it('a new password ends the sessions; only the new password signs in', async () => {
    const user = await createUser(admin, 'emergency-newpass', [{ role: 'emergency', areaCode: '02683' }]);
    const cookie = await signIn('emergency-newpass');
    const response = await call('PATCH', `/users/${user.id}`, admin, { password: NEW_PASSWORD });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).not.toMatch(/password|argon2/i);
    expect((await call('GET', '/auth/me', cookie)).statusCode).toBe(401);
    const old = await call('POST', '/auth/login', undefined, { username: 'emergency-newpass', password: PASSWORD });
    expect(old.statusCode).toBe(401);
    await signIn('emergency-newpass', NEW_PASSWORD);
  });
});

describe('API tokens', () => {
  it('creates a token shown once, usable as Bearer, listed with lastUsedAt, revocable', async () => {
    const cookie = await signIn('technician-082');
    const before = Date.now();
    const created = await call('POST', '/auth/tokens', cookie, { name: 'monitoring' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, token, expiresAt, name } = created.json() as {
      id: string;
      token: string;
      expiresAt: string;
      name: string;
    };
    secrets.push(token);
    expect(name).toBe('monitoring');
    expect(token).toMatch(/^tok_[A-Za-z0-9_-]{43}$/);
    const ttl = new Date(expiresAt).getTime() - before;
    expect(ttl).toBeGreaterThanOrEqual(90 * 86_400_000);
    expect(ttl).toBeLessThan(90 * 86_400_000 + 60_000);
    const stored = await database.db().apiToken.findUniqueOrThrow({ where: { id } });
    expect(stored.tokenHash).not.toContain(token);
    expect(stored.lastUsedAt).toBeNull();

    const bearer = { bearer: token };
    const me = await call('GET', '/auth/me', bearer);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'technician-082', grants: [{ role: 'technician', areaCode: '082' }] });

    const list = await call('GET', '/auth/tokens', cookie);
    expect(list.statusCode).toBe(200);
    const items = list.json().items as Array<Record<string, unknown>>;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id, name: 'monitoring', expiresAt });
    expect(items[0]?.lastUsedAt).toEqual(expect.any(String));
    expect(Object.keys(items[0] ?? {}).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name']);
    expect(list.body).not.toContain(token);
    expect(list.body).not.toContain(stored.tokenHash);
    // Another user neither sees nor revokes it.
    const other = await signIn('technician-085');
    expect((await call('GET', '/auth/tokens', other)).json().items).toEqual([]);
    expect((await call('DELETE', `/auth/tokens/${id}`, other)).statusCode).toBe(404);
    expect((await call('GET', '/auth/me', bearer)).statusCode).toBe(200);

    expect((await call('DELETE', `/auth/tokens/${id}`, cookie)).statusCode).toBe(204);
    const revoked = await call('GET', '/auth/me', bearer);
    expect(revoked.statusCode).toBe(401);
    expect((await call('DELETE', `/auth/tokens/${id}`, cookie)).statusCode).toBe(404);
    expect((await call('GET', '/auth/tokens', cookie)).json().items).toEqual([]);
  });

  it('a token cannot mint a token, but may list and revoke its own', async () => {
    const cookie = await signIn('emergency-085');
    const first = (await call('POST', '/auth/tokens', cookie, { name: 'first', expiresInDays: 1 })).json() as {
      id: string;
      token: string;
      expiresAt: string;
    };
    secrets.push(first.token);
    expect(new Date(first.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    const bearer = { bearer: first.token };
    const mint = await call('POST', '/auth/tokens', bearer, { name: 'second' });
    expect(mint.statusCode).toBe(403);
    expect(mint.json().detail).toMatch(/cannot create API tokens/);
    expect(await database.db().apiToken.count({ where: { user: { username: 'emergency-085' } } })).toBe(1);
    expect((await call('GET', '/auth/tokens', bearer)).json().items).toHaveLength(1);
    expect((await call('DELETE', `/auth/tokens/${first.id}`, bearer)).statusCode).toBe(204);
    expect((await call('GET', '/auth/tokens', bearer)).statusCode).toBe(401);
  });

  it('validates the request and needs sign-in', async () => {
    const cookie = await signIn('technician-10');
    for (const body of [{ name: 'x', expiresInDays: 0 }, { name: 'x', expiresInDays: 366 }, { name: '' }, {}]) {
      expect((await call('POST', '/auth/tokens', cookie, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await call('POST', '/auth/tokens', undefined, { name: 'x' })).statusCode).toBe(401);
    expect((await call('GET', '/auth/tokens')).statusCode).toBe(401);
    expect((await call('DELETE', `/auth/tokens/${randomUUID()}`)).statusCode).toBe(401);
    expect((await call('GET', '/auth/me', { bearer: 'tok_forged' })).statusCode).toBe(401);
  });
});

interface AuditView {
  id: string;
  at: string;
  actorKind: string;
  actor: string | null;
  action: string;
  entity: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit log', () => {
  it('records every change without secrets, newest first, page by page', async () => {
    const entries = await getAll<AuditView>(admin, '/audit', 4);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    const ids = entries.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id < (ids[i - 1] as bigint))).toBe(true);
    const actions = new Set(entries.map((e) => e.action));
    for (const a of ['create_user', 'update_user', 'grant', 'revoke', 'create_token', 'revoke_token'])
      expect(actions, a).toContain(a);
    const text = JSON.stringify(entries);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/argon2|passwordHash|tokenHash|"password":|"token":/);
    const hashes = await database.db().apiToken.findMany({ select: { tokenHash: true } });
    for (const { tokenHash } of hashes) expect(text).not.toContain(tokenHash);
  });

  it('filters by entity, actor and time', async () => {
    const leaving = await userId('official-leaving');
    const history = await getAll<AuditView>(admin, `/audit?entity=user&entityId=${leaving}`);
    expect(history.map((e) => e.action)).toEqual(['update_user', 'update_user', 'create_user']);
    expect(history.map((e) => [e.before, e.after])).toEqual([
      [{ active: false }, { active: true }],
      [{ active: true }, { active: false, sessionsEnded: 1 }],
      [
        null,
        {
          username: 'official-leaving',
          displayName: 'Người dùng official-leaving',
          locale: 'vi',
          active: true,
          grants: [expect.objectContaining({ role: 'official', areaCode: '02680' })],
        },
      ],
    ]);
    expect(history.every((e) => e.actor === 'admin' && e.actorKind === 'user')).toBe(true);

    const newPass = await getAll<AuditView>(admin, `/audit?entity=user&entityId=${await userId('emergency-newpass')}`);
    expect(newPass[0]?.after).toEqual({ passwordChanged: true, sessionsEnded: 1 });

    const byDistrict = await getAll<AuditView>(admin, '/audit?actor=admin-082');
    expect(byDistrict.length).toBeGreaterThanOrEqual(4);
    expect(byDistrict.every((e) => e.actor === 'admin-082')).toBe(true);
    expect(byDistrict.map((e) => e.action)).toContain('create_user');

    const tokens = await getAll<AuditView>(admin, '/audit?entity=api_token');
    expect(tokens.filter((e) => e.action === 'revoke_token').length).toBeGreaterThanOrEqual(2);
    const viaToken = tokens.find((e) => e.action === 'revoke_token' && e.actor === 'emergency-085');
    expect(viaToken?.actorKind).toBe('token');

    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(await getAll(admin, `/audit?from=${encodeURIComponent(future)}`)).toEqual([]);
    expect(await getAll(admin, `/audit?to=${encodeURIComponent(testStart.toISOString())}`)).toEqual([]);
    const since = await getAll(admin, `/audit?from=${encodeURIComponent(testStart.toISOString())}`);
    expect(since.length).toBe((await getAll(admin, '/audit')).length);
    expect((await call('GET', '/audit?from=yesterday', admin)).statusCode).toBe(400);
    expect((await call('GET', `/audit?cursor=${Buffer.from('x1').toString('base64url')}`, admin)).statusCode).toBe(400);
  });

  it("shows a district admin its own users' and its area's entries only", async () => {
    const technician = await signIn('technician-10');
    for (const rx of ['rx-02680-01-1', 'rx-02824-01-1'])
      expect((await call('POST', `/receivers/${rx}/credentials`, technician)).statusCode).toBe(201);
    const outsider = await createUser(admin, 'official-085-only', [{ role: 'official', areaCode: '02824' }]);

    const outsiderOfBoth = await userId('official-two-districts');
    const district = await signIn('admin-082');
    const seen = await getAll<AuditView>(district, '/audit', 5);
    const all = await getAll<AuditView>(admin, '/audit');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(all.length);
    // Entity rule: a receiver in the district, though the actor is a province technician.
    const receivers = seen.filter((e) => e.entity === 'receiver').map((e) => e.entityId);
    expect(receivers).toEqual(['rx-02680-01-1']);
    // A user of another district, created by the province admin: not shown.
    expect(seen.some((e) => e.entityId === outsider.id)).toBe(false);
    expect(await getAll(district, `/audit?entity=user&entityId=${outsider.id}`)).toEqual([]);
    expect(await getAll(admin, `/audit?entity=user&entityId=${outsider.id}`)).toHaveLength(1);
    // A user of the district, created by the province admin: shown.
    const local = await userId('official-new-02683');
    expect((await getAll<AuditView>(district, `/audit?entity=user&entityId=${local}`)).map((e) => e.action)).toEqual([
      'create_user',
    ]);
    // Its own actions (actor rule), and the tokens of its users.
    expect(seen.some((e) => e.actor === 'admin-082' && e.action === 'create_user')).toBe(true);
    expect(seen.some((e) => e.action === 'create_token' && e.actor === 'technician-082')).toBe(true);
    expect(seen.some((e) => e.actor === 'technician-085' || e.actor === 'emergency-085')).toBe(false);
    // About a user who also acts beyond the district: its own revoke (actor rule), not the province admin's changes.
    const twoDistricts = seen.filter((e) => e.entityId === outsiderOfBoth);
    expect(twoDistricts.map((e) => [e.actor, e.action])).toEqual([['admin-082', 'revoke']]);
    const districtAdmin = await userId('admin-082');
    expect(seen.some((e) => e.actor === 'admin' && e.entity === 'user' && e.entityId === districtAdmin)).toBe(true);
  });
});

describe('users: nobody locks the system out', () => {
  it('refuses to remove or deactivate the last active province admin', async () => {
    const adminId = await userId('admin');
    const grant = await database.db().roleGrant.findFirstOrThrow({ where: { userId: adminId, role: 'admin' } });
    const remove = await call('DELETE', `/users/${adminId}/grants/${grant.id}`, admin);
    expect(remove.statusCode).toBe(409);
    expect(remove.json().detail).toMatch(/last active admin grant on 10/);
    expect((await call('PATCH', `/users/${adminId}`, admin, { active: false })).statusCode).toBe(409);

    const second = await createUser(admin, 'admin-2', [{ role: 'admin', areaCode: '10' }]);
    expect((await call('PATCH', `/users/${second.id}`, admin, { active: false })).statusCode).toBe(200);
    // An inactive admin does not count.
    expect((await call('DELETE', `/users/${adminId}/grants/${grant.id}`, admin)).statusCode).toBe(409);
    const secondCookie = (await call('PATCH', `/users/${second.id}`, admin, { active: true })).statusCode;
    expect(secondCookie).toBe(200);
    const other = await signIn('admin-2');
    expect((await call('DELETE', `/users/${second.id}/grants/${second.grants[0]?.id}`, other)).statusCode).toBe(204);
    expect((await call('GET', '/users', other)).statusCode).toBe(403);
    // The province admin still sees (and may administer) the user without grants; a district admin may not.
    expect((await call('GET', `/users/${second.id}`, admin)).json().grants).toEqual([]);
    expect((await call('GET', `/users/${second.id}`, await signIn('admin-082'))).statusCode).toBe(403);
    expect(await database.db().roleGrant.count({ where: { userId: adminId, role: 'admin' } })).toBe(1);

    const revokes = await getAll<AuditView>(admin, `/audit?entity=user&entityId=${second.id}`);
    expect(revokes[0]).toMatchObject({ action: 'revoke', actor: 'admin-2', before: { role: 'admin', areaCode: '10' } });
  });
});
