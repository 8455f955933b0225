import { describe, expect, it } from 'vitest';
import { seedLoadProvince } from '../src/demo/load-province.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();

describe('a generated province for load tests', () => {
  it('builds the area tree, the receivers and the users, with paths and languages', async () => {
    const db = database.db();
    const p = await seedLoadProvince(db, { receivers: 250, perVillage: 20, villagesPerCommune: 5, password: 'pw' });
    expect(p.villages).toHaveLength(13);
    expect(p.communes).toEqual(['LP-D1-C1', 'LP-D1-C2', 'LP-D1-C3']);
    expect(p.receivers).toHaveLength(250);
    expect(await db.receiver.count()).toBe(250);
    expect(await db.area.count({ where: { level: 'village' } })).toBe(13);
    const village = await db.area.findUniqueOrThrow({ where: { code: 'LP-D1-C2-V3' }, include: { receivers: true } });
    expect(village.path).toBe('/LP/LP-D1/LP-D1-C2/LP-D1-C2-V3/');
    expect(village.receivers).toHaveLength(20);
    expect(village.languages[0]).toBe('vie');
    // The last village holds what is left over.
    expect(await db.receiver.count({ where: { village: { code: 'LP-D1-C3-V3' } } })).toBe(10);
    const grants = await db.roleGrant.findMany({ include: { user: true, area: true } });
    expect(grants.map((g) => `${g.user.username}:${g.role}:${g.area.code}`).sort()).toEqual([
      'admin-lp:admin:LP',
      'emergency-lp:emergency:LP',
      'official-lp-d1-c1:official:LP-D1-C1',
      'official-lp-d1-c2:official:LP-D1-C2',
      'official-lp-d1-c3:official:LP-D1-C3',
      'technician-lp:technician:LP',
    ]);
    expect(new Set(p.receivers.map((r) => r.id)).size).toBe(250);
  });
});
