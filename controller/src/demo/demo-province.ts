import type { LanguageCode } from '@loa/protocols';

/**
 * A realistic demo province in the northern mountains: Lào Cai, two districts, three
 * communes each, five villages per commune with the language mixes such villages have,
 * five loudspeaker clusters per village. Names are real places; the commune and village
 * codes follow the official pattern but are illustrative.
 */
export interface DemoVillage {
  code: string;
  name: string;
  languages: LanguageCode[];
}
export interface DemoCommune {
  code: string;
  name: string;
  centre: [number, number]; // latitude, longitude
  villages: DemoVillage[];
}
export interface DemoDistrict {
  code: string;
  name: string;
  communes: DemoCommune[];
}

const HMONG: LanguageCode[] = ['vie', 'hmn'];
const HMONG_DAO: LanguageCode[] = ['vie', 'hmn', 'ium'];
const DAO: LanguageCode[] = ['vie', 'ium'];
const TAY: LanguageCode[] = ['vie', 'tyz'];
const NUNG_HMONG: LanguageCode[] = ['vie', 'nut', 'hmn'];
const TAY_NUNG: LanguageCode[] = ['vie', 'tyz', 'nut'];

function villages(communeCode: string, entries: Array<[string, LanguageCode[]]>): DemoVillage[] {
  return entries.map(([name, languages], i) => ({
    code: `${communeCode}-${String(i + 1).padStart(2, '0')}`,
    name,
    languages,
  }));
}

export const DEMO_PROVINCE = {
  code: '10',
  name: 'Lào Cai',
  languages: ['vie'] as LanguageCode[],
  districts: [
    {
      code: '082',
      name: 'Bát Xát',
      communes: [
        {
          code: '02680',
          name: 'Y Tý',
          centre: [22.632, 103.628],
          villages: villages('02680', [
            ['Thôn Lao Chải', HMONG],
            ['Thôn Mò Phú Chải', HMONG_DAO],
            ['Thôn Choản Thèn', HMONG],
            ['Thôn Sín Chải', DAO],
            ['Thôn Hồng Ngài', HMONG],
          ]),
        },
        {
          code: '02683',
          name: 'A Lù',
          centre: [22.603, 103.612],
          villages: villages('02683', [
            ['Thôn Phìn Hồ', HMONG],
            ['Thôn Sảng Chải', HMONG_DAO],
            ['Thôn Ngải Trồ', DAO],
            ['Thôn Lao Chải', HMONG],
            ['Thôn Cán Cấu', HMONG],
          ]),
        },
        {
          code: '02701',
          name: 'Trịnh Tường',
          centre: [22.678, 103.781],
          villages: villages('02701', [
            ['Thôn Pạc Tà', TAY],
            ['Thôn Bản Lợ', TAY_NUNG],
            ['Thôn Phìn Chải', HMONG_DAO],
            ['Thôn Tùng Chỉn', DAO],
            ['Thôn Vi Phạ', TAY],
          ]),
        },
      ],
    },
    {
      code: '085',
      name: 'Bắc Hà',
      communes: [
        {
          code: '02824',
          name: 'Lùng Phình',
          centre: [22.601, 104.262],
          villages: villages('02824', [
            ['Thôn Lùng Phình A', HMONG],
            ['Thôn Pả Chư Tỷ', HMONG],
            ['Thôn Sán Sả Hồ', NUNG_HMONG],
            ['Thôn Cán Chư Sử', HMONG],
            ['Thôn Lùng Phình B', NUNG_HMONG],
          ]),
        },
        {
          code: '02839',
          name: 'Bản Phố',
          centre: [22.531, 104.302],
          villages: villages('02839', [
            ['Thôn Bản Phố 1', HMONG],
            ['Thôn Bản Phố 2', HMONG],
            ['Thôn Sín Chải', NUNG_HMONG],
            ['Thôn Cốc Ly Hạ', TAY_NUNG],
            ['Thôn Lả Dì Thàng', HMONG],
          ]),
        },
        {
          code: '02812',
          name: 'Tả Van Chư',
          centre: [22.634, 104.331],
          villages: villages('02812', [
            ['Thôn Sín Chải', HMONG],
            ['Thôn Lử Chồ', HMONG],
            ['Thôn Tả Van Chư', HMONG],
            ['Thôn Sảng Mào Phố', NUNG_HMONG],
            ['Thôn Chư Tả', HMONG],
          ]),
        },
      ],
    },
  ] satisfies DemoDistrict[],
};

export const RECEIVERS_PER_VILLAGE = 5;

/**
 * Deterministic pseudo-random scatter (mulberry32) so every seed run places receivers at
 * the same points: villages within ~3 km of the commune centre, clusters within ~400 m.
 */
export function scatter(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The programmes each commune airs in a typical week (local times). */
export const DEMO_PROGRAMMES = [
  {
    title: 'Bản tin sáng',
    category: 'news' as const,
    startTime: '06:30',
    rrule: 'FREQ=DAILY',
    durationMs: 15 * 60_000,
    priority: 'normal' as const,
    startMode: 'hard' as const,
    text: 'Bản tin buổi sáng của xã: thời tiết, lịch tiêm chủng và thông báo của Ủy ban nhân dân xã.',
  },
  {
    title: 'Bản tin chiều',
    category: 'news' as const,
    startTime: '17:30',
    rrule: 'FREQ=DAILY',
    durationMs: 15 * 60_000,
    priority: 'normal' as const,
    startMode: 'next' as const,
    text: 'Bản tin buổi chiều: tin nông nghiệp, giá cả thị trường và an ninh trật tự.',
  },
  {
    title: 'Thông báo hằng tuần',
    category: 'notice' as const,
    startTime: '07:30',
    rrule: 'FREQ=WEEKLY;BYDAY=MO',
    durationMs: 5 * 60_000,
    priority: 'priority' as const,
    startMode: 'wait' as const,
    text: 'Thông báo lịch họp thôn, lịch thu thuế và các hoạt động trong tuần.',
  },
];
