import type { LanguageCode } from '@loa/protocols';
import { hashPassword } from '../auth/passwords.js';
import type { Database } from '../database/client.js';
import type { Role } from '../generated/prisma/client.js';
import { outlineAreasFromReceivers } from './approximate-outlines.js';

/** The shape of a generated province for load tests and benchmarks. */
export interface LoadProvinceOptions {
  receivers: number;
  /** Receivers per village (default 100: a large village, so area fan-out is wide). */
  perVillage?: number;
  /** Villages per commune (default 10) and communes per district (default 10). */
  villagesPerCommune?: number;
  communesPerDistrict?: number;
  /** Password of the generated users. */
  password: string;
  /** Province code (default `LP`); every other code derives from it. */
  provinceCode?: string;
}

export interface LoadProvince {
  provinceCode: string;
  districts: string[];
  communes: string[];
  villages: Array<{ code: string; communeCode: string; languages: LanguageCode[] }>;
  receivers: Array<{ id: string; villageCode: string }>;
  /** Users created: `admin-<p>`, `technician-<p>`, `emergency-<p>` at province level, `official-<commune>` per commune. */
  users: string[];
}

const LANGUAGE_MIXES: LanguageCode[][] = [
  ['vie'],
  ['vie', 'hmn'],
  ['vie', 'ium'],
  ['vie', 'tyz'],
  ['vie', 'hmn', 'ium'],
];

/**
 * A province of any size, for the simulator's benchmarks and scale tests (the demo
 * province has 150 receivers; a real one has thousands). Written with bulk inserts so
 * 10,000 receivers take seconds. Meant for a fresh database.
 */
export async function seedLoadProvince(db: Database, options: LoadProvinceOptions): Promise<LoadProvince> {
  const perVillage = options.perVillage ?? 100;
  const villagesPerCommune = options.villagesPerCommune ?? 10;
  const communesPerDistrict = options.communesPerDistrict ?? 10;
  const p = options.provinceCode ?? 'LP';
  const villageCount = Math.ceil(options.receivers / perVillage);
  const communeCount = Math.ceil(villageCount / villagesPerCommune);
  const districtCount = Math.ceil(communeCount / communesPerDistrict);
  const out: LoadProvince = { provinceCode: p, districts: [], communes: [], villages: [], receivers: [], users: [] };

  const province = await db.area.create({
    data: { code: p, level: 'province', name: `Tỉnh thử tải ${p}`, path: `/${p}/`, languages: ['vie'] },
  });
  const communeIds = new Map<string, { id: string; path: string }>();
  for (let d = 0; d < districtCount; d++) {
    const dc = `${p}-D${d + 1}`;
    const district = await db.area.create({
      data: {
        code: dc,
        level: 'district',
        name: `Huyện ${d + 1}`,
        parentId: province.id,
        path: `${province.path}${dc}/`,
        languages: ['vie'],
      },
    });
    out.districts.push(dc);
    for (let c = 0; c < communesPerDistrict && out.communes.length < communeCount; c++) {
      const cc = `${dc}-C${c + 1}`;
      const commune = await db.area.create({
        data: {
          code: cc,
          level: 'commune',
          name: `Xã ${d + 1}.${c + 1}`,
          parentId: district.id,
          path: `${district.path}${cc}/`,
          languages: ['vie', 'hmn', 'ium', 'tyz'],
        },
      });
      out.communes.push(cc);
      communeIds.set(cc, { id: commune.id, path: commune.path });
    }
  }
  const villageRows = [];
  for (let v = 0; v < villageCount; v++) {
    const communeCode = out.communes[Math.floor(v / villagesPerCommune)] as string;
    const commune = communeIds.get(communeCode) as { id: string; path: string };
    const code = `${communeCode}-V${(v % villagesPerCommune) + 1}`;
    const languages = LANGUAGE_MIXES[v % LANGUAGE_MIXES.length] as LanguageCode[];
    out.villages.push({ code, communeCode, languages });
    villageRows.push({
      code,
      level: 'village' as const,
      name: `Thôn ${v + 1}`,
      parentId: commune.id,
      path: `${commune.path}${code}/`,
      languages,
    });
  }
  await db.area.createMany({ data: villageRows });
  const villageIds = new Map(
    (await db.area.findMany({ where: { level: 'village', code: { startsWith: `${p}-` } } })).map((a) => [a.code, a.id]),
  );
  const receiverRows = [];
  for (let i = 0; i < options.receivers; i++) {
    const village = out.villages[Math.floor(i / perVillage)] as (typeof out.villages)[number];
    const id = `rx-${village.code}-${(i % perVillage) + 1}`.toLowerCase();
    out.receivers.push({ id, villageCode: village.code });
    receiverRows.push({
      id,
      name: `Cụm loa ${(i % perVillage) + 1}`,
      villageId: villageIds.get(village.code) as string,
      // A grid around Lào Cai, 0.001° (≈100 m) apart within a village.
      latitude: 22.3 + Math.floor(i / perVillage) * 0.01 + (i % 10) * 0.001,
      longitude: 103.9 + (Math.floor(i / 10) % 10) * 0.001,
    });
  }
  for (let i = 0; i < receiverRows.length; i += 5000)
    await db.receiver.createMany({ data: receiverRows.slice(i, i + 5000) });
  // Approximate outlines for the map (hull of the receivers, buffered): no surveyed ones exist.
  await outlineAreasFromReceivers(db, province.path);

  const passwordHash = await hashPassword(options.password);
  const grants: Array<{ username: string; role: Role; areaId: string }> = [
    { username: `admin-${p}`.toLowerCase(), role: 'admin', areaId: province.id },
    { username: `technician-${p}`.toLowerCase(), role: 'technician', areaId: province.id },
    { username: `emergency-${p}`.toLowerCase(), role: 'emergency', areaId: province.id },
    ...out.communes.map((code) => ({
      username: `official-${code}`.toLowerCase(),
      role: 'official' as const,
      areaId: (communeIds.get(code) as { id: string }).id,
    })),
  ];
  for (const g of grants) {
    const user = await db.user.create({ data: { username: g.username, displayName: g.username, passwordHash } });
    await db.roleGrant.create({ data: { userId: user.id, role: g.role, areaId: g.areaId } });
    out.users.push(g.username);
  }
  return out;
}
