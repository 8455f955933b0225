import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/auth/passwords.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();

describe('demo province seed', () => {
  it('creates a realistic province, idempotently', async () => {
    const db = database.db();
    const first = await seedDemoProvince(db, { password: 'test-password' });
    expect(first).toEqual({ areas: 39, receivers: 150, users: 19, schedules: 18 });
    const again = await seedDemoProvince(db, { password: 'test-password' });
    expect(again).toEqual(first);

    const count = async (level: 'province' | 'district' | 'commune' | 'village') => db.area.count({ where: { level } });
    expect([await count('province'), await count('district'), await count('commune'), await count('village')]).toEqual([
      1, 2, 6, 30,
    ]);
    expect(await db.receiver.count()).toBe(150);
    expect(await db.schedule.count()).toBe(18);
    expect(await db.content.count()).toBe(18);

    // Villages carry ethnic-language mixes, always led by Vietnamese.
    const villages = await db.area.findMany({ where: { level: 'village' } });
    expect(villages.every((v) => v.languages[0] === 'vie' && v.languages.length >= 2)).toBe(true);
    expect(new Set(villages.flatMap((v) => v.languages))).toEqual(new Set(['vie', 'hmn', 'ium', 'tyz', 'nut']));

    // Receivers stand in the northern mountains (Lào Cai), under their village's path.
    const receivers = await db.receiver.findMany({ include: { village: true } });
    for (const r of receivers) {
      expect(r.latitude).toBeGreaterThan(22.4);
      expect(r.latitude).toBeLessThan(22.8);
      expect(r.longitude).toBeGreaterThan(103.5);
      expect(r.longitude).toBeLessThan(104.5);
      expect(r.village.path).toMatch(/^\/10\/0(82|85)\/\d{5}\/\d{5}-\d{2}\/$/);
    }

    // One user per role and scope, with a working argon2 password.
    const official = await db.user.findUniqueOrThrow({
      where: { username: 'official-02680' },
      include: { grants: { include: { area: true } } },
    });
    expect(official.grants.map((g) => [g.role, g.area.code])).toEqual([['official', '02680']]);
    expect(await verifyPassword(official.passwordHash, 'test-password')).toBe(true);
    expect(await verifyPassword(official.passwordHash, 'wrong')).toBe(false);
    const roles = await db.roleGrant.groupBy({ by: ['role'], _count: true });
    expect(Object.fromEntries(roles.map((r) => [r.role, r._count]))).toEqual({
      admin: 1,
      emergency: 9,
      official: 6,
      technician: 3,
    });

    // A week of programmes: daily morning and evening news, a weekly notice.
    const yty = await db.schedule.findMany({ where: { ownerArea: { code: '02680' } }, orderBy: { title: 'asc' } });
    expect(yty.map((s) => s.rrule)).toEqual(['FREQ=DAILY', 'FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO']);
  }, 60_000);
});
