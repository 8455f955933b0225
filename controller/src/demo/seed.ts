import { hashPassword } from '../auth/passwords.js';
import type { Database } from '../database/client.js';
import type { AreaLevel, Role } from '../generated/prisma/client.js';
import { materialiseSchedule } from '../scheduling/horizon.js';
import { outlineAreasFromReceivers } from './approximate-outlines.js';
import { DEMO_PROGRAMMES, DEMO_PROVINCE, RECEIVERS_PER_VILLAGE, scatter } from './demo-province.js';

export interface SeedSummary {
  areas: number;
  receivers: number;
  users: number;
  schedules: number;
}

const TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Today's date in Vietnam as YYYY-MM-DD. */
function localDate(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/**
 * Creates (or brings up to date) the demo province: areas, receivers, one user per role
 * and scope, and a week of typical programmes. Idempotent: running it again changes
 * nothing that is already there, so `npm start` can run it every time.
 */
export async function seedDemoProvince(db: Database, options: { password: string; now?: Date }): Promise<SeedSummary> {
  const passwordHash = await hashPassword(options.password);
  const today = localDate(options.now ?? new Date());
  const areaIds = new Map<string, string>();

  const upsertArea = async (
    code: string,
    level: AreaLevel,
    name: string,
    parentCode: string | null,
    languages: string[],
  ) => {
    const parentId = parentCode ? areaIds.get(parentCode) : undefined;
    const parentPath = parentCode ? (await db.area.findUniqueOrThrow({ where: { code: parentCode } })).path : '/';
    const data = { level, name, parentId: parentId ?? null, path: `${parentPath}${code}/`, languages };
    const area = await db.area.upsert({ where: { code }, create: { code, ...data }, update: data });
    areaIds.set(code, area.id);
    return area;
  };

  const users: Array<{ username: string; displayName: string; role: Role; areaCode: string }> = [
    { username: 'admin', displayName: 'Quản trị hệ thống', role: 'admin', areaCode: DEMO_PROVINCE.code },
    {
      username: `emergency-${DEMO_PROVINCE.code}`,
      displayName: 'Ban chỉ huy PCTT tỉnh',
      role: 'emergency',
      areaCode: DEMO_PROVINCE.code,
    },
    {
      username: `technician-${DEMO_PROVINCE.code}`,
      displayName: 'Kỹ thuật viên tỉnh',
      role: 'technician',
      areaCode: DEMO_PROVINCE.code,
    },
  ];

  await upsertArea(DEMO_PROVINCE.code, 'province', DEMO_PROVINCE.name, null, DEMO_PROVINCE.languages);
  let receivers = 0;
  for (const district of DEMO_PROVINCE.districts) {
    await upsertArea(district.code, 'district', district.name, DEMO_PROVINCE.code, ['vie']);
    users.push(
      {
        username: `emergency-${district.code}`,
        displayName: `Ban chỉ huy PCTT huyện ${district.name}`,
        role: 'emergency',
        areaCode: district.code,
      },
      {
        username: `technician-${district.code}`,
        displayName: `Kỹ thuật viên huyện ${district.name}`,
        role: 'technician',
        areaCode: district.code,
      },
    );
    for (const commune of district.communes) {
      const communeLanguages = [...new Set(commune.villages.flatMap((v) => v.languages))];
      await upsertArea(commune.code, 'commune', `Xã ${commune.name}`, district.code, communeLanguages);
      users.push(
        {
          username: `official-${commune.code}`,
          displayName: `Cán bộ văn hóa xã ${commune.name}`,
          role: 'official',
          areaCode: commune.code,
        },
        {
          username: `emergency-${commune.code}`,
          displayName: `Ban chỉ huy PCTT xã ${commune.name}`,
          role: 'emergency',
          areaCode: commune.code,
        },
      );
      const random = scatter(Number(commune.code));
      for (const village of commune.villages) {
        const area = await upsertArea(village.code, 'village', village.name, commune.code, village.languages);
        const [lat, lon] = commune.centre;
        const vLat = lat + (random() - 0.5) * 0.05;
        const vLon = lon + (random() - 0.5) * 0.05;
        for (let i = 1; i <= RECEIVERS_PER_VILLAGE; i++) {
          const id = `rx-${village.code}-${i}`.toLowerCase();
          const data = {
            name: `Cụm loa ${i} – ${village.name}`,
            villageId: area.id,
            latitude: Number((vLat + (random() - 0.5) * 0.007).toFixed(6)),
            longitude: Number((vLon + (random() - 0.5) * 0.007).toFixed(6)),
            hardware: { model: 'LOA-IP-4G', amplifierW: 120, horns: 4 },
          };
          await db.receiver.upsert({ where: { id }, create: { id, ...data }, update: data });
          receivers++;
        }
      }
    }
  }

  // The demo has no surveyed outlines: approximate ones from the receivers (see approximate-outlines.ts).
  await outlineAreasFromReceivers(db, `/${DEMO_PROVINCE.code}/`);

  for (const u of users) {
    const user = await db.user.upsert({
      where: { username: u.username },
      create: { username: u.username, displayName: u.displayName, passwordHash },
      update: { displayName: u.displayName },
    });
    const areaId = areaIds.get(u.areaCode) as string;
    await db.roleGrant.upsert({
      where: { userId_role_areaId: { userId: user.id, role: u.role, areaId } },
      create: { userId: user.id, role: u.role, areaId },
      update: {},
    });
  }

  let schedules = 0;
  for (const district of DEMO_PROVINCE.districts) {
    for (const commune of district.communes) {
      const ownerAreaId = areaIds.get(commune.code) as string;
      for (const programme of DEMO_PROGRAMMES) {
        const title = `${programme.title} – Xã ${commune.name}`;
        let content = await db.content.findFirst({ where: { title, ownerAreaId } });
        if (!content) {
          content = await db.content.create({
            data: {
              title,
              category: programme.category,
              ownerAreaId,
              // Vietnamese by TTS; the ethnic-language variants are recorded by people.
              variants: { create: [{ language: 'vie', kind: 'text', text: programme.text }] },
            },
          });
        }
        let schedule = await db.schedule.findFirst({ where: { title, ownerAreaId } });
        if (!schedule) {
          schedule = await db.schedule.create({
            data: {
              title,
              contentId: content.id,
              ownerAreaId,
              startLocal: `${today}T${programme.startTime}:00`,
              timezone: TIME_ZONE,
              rrule: programme.rrule,
              durationMs: programme.durationMs,
              priority: programme.priority,
              startMode: programme.startMode,
              waitS: programme.startMode === 'wait' ? 600 : null,
              volume: 80,
              targets: { create: [{ areaId: ownerAreaId }] },
            },
          });
        }
        await materialiseSchedule(db, schedule.id, options.now ?? new Date());
        schedules++;
      }
    }
  }

  return { areas: areaIds.size, receivers, users: users.length, schedules };
}
