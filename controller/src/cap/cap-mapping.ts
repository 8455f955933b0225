import {
  type AlertStatus,
  type CapAlert,
  type CapCategory,
  type CapInfo,
  type CapSeverity,
  formatCapDateTime,
  HAZARD_NAMES,
  type Hazard,
  isLanguageCode,
  type LanguageCode,
  parseCapDateTime,
  type RiskLevel,
} from '@loa/protocols';
import type { Circle, Polygon } from '../alerts/alert-targets.js';
import type { Alert } from '../generated/prisma/client.js';

/** Vietnam's offset from UTC, in minutes: exported times read as local time. */
const VIETNAM_OFFSET_MIN = 420;
/** The parameter carrying Vietnam's disaster risk level (Decision 18/2021/QĐ-TTg) 1–5. */
export const RISK_LEVEL_PARAMETER = 'riskLevel';
/** The eventCode carrying this system's hazard name. */
export const HAZARD_EVENT_CODE = 'loa:hazard';
/** CAP without an expiry lasts this long (CAP leaves it to the recipient). */
const DEFAULT_LIFETIME_MS = 6 * 3600_000;

const CATEGORY: Record<Hazard, CapCategory> = {
  storm: 'Met',
  tropical_depression: 'Met',
  flood: 'Met',
  flash_flood: 'Met',
  landslide: 'Geo',
  forest_fire: 'Fire',
  earthquake: 'Geo',
  tsunami: 'Geo',
  epidemic: 'Health',
  other: 'Other',
};
const SEVERITY: Record<RiskLevel, CapSeverity> = { 1: 'Minor', 2: 'Moderate', 3: 'Severe', 4: 'Extreme', 5: 'Extreme' };
const LEVEL_OF_SEVERITY: Record<CapSeverity, RiskLevel> = { Unknown: 1, Minor: 1, Moderate: 2, Severe: 3, Extreme: 4 };

/** CAP languages (RFC 3066) to ours: vi and vi-VN are Vietnamese, en-* English, a 639-3 code itself. */
export function languageOfCap(tag: string): LanguageCode | undefined {
  const primary = tag.toLowerCase().split('-')[0] ?? '';
  if (primary === 'vi') return 'vie';
  if (primary === 'en') return 'eng';
  return isLanguageCode(primary) ? primary : undefined;
}
const capLanguageOf = (language: string) => (language === 'vie' ? 'vi-VN' : language === 'eng' ? 'en-US' : language);

/** Words in the event name that say which hazard it is (Vietnamese and English), most specific first. */
const HAZARD_WORDS: Array<[Hazard, RegExp]> = [
  ['flash_flood', /lũ quét|flash.?flood/i],
  ['tropical_depression', /áp thấp|tropical depression/i],
  ['storm', /bão|typhoon|storm|cyclone/i],
  ['landslide', /sạt lở|landslide|mudslide/i],
  ['flood', /lũ|ngập|flood/i],
  ['forest_fire', /cháy rừng|wildfire|forest fire|\bfire\b/i],
  ['tsunami', /sóng thần|tsunami/i],
  ['earthquake', /động đất|earthquake/i],
  ['epidemic', /dịch|epidemic|outbreak/i],
];

function hazardOf(info: CapInfo): Hazard {
  const coded = info.eventCode.find((c) => c.valueName === HAZARD_EVENT_CODE)?.value;
  if (coded && coded in HAZARD_NAMES) return coded as Hazard;
  return HAZARD_WORDS.find(([, words]) => words.test(info.event))?.[0] ?? 'other';
}

function riskLevelOf(info: CapInfo): RiskLevel {
  const given = Number(info.parameter.find((p) => p.valueName === RISK_LEVEL_PARAMETER)?.value);
  return Number.isInteger(given) && given >= 1 && given <= 5 ? (given as RiskLevel) : LEVEL_OF_SEVERITY[info.severity];
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export interface AlertFromCap {
  status: AlertStatus;
  hazard: Hazard;
  riskLevel: RiskLevel;
  headline: Record<string, string>;
  instruction: Record<string, string>;
  expiresAt: Date;
  areaCodes: string[];
  polygons: Polygon[];
  circles: Circle[];
}

export type CapMapping = { ok: true; alert: AlertFromCap } | { ok: false; reason: string };

/**
 * What a CAP Alert or Update says, as one of our alerts: headline and instruction per
 * language we can air (the info blocks in other languages are left out), hazard from our
 * event code or the event's words, risk level from its parameter or the severity, areas
 * from geocodes whose name is one we map (their value is our area code), and the
 * polygons and circles as drawn targets.
 */
export function alertFromCap(cap: CapAlert, geocodeNames: readonly string[], now = new Date()): CapMapping {
  if (cap.status !== 'Actual' && cap.status !== 'Exercise' && cap.status !== 'Test')
    return { ok: false, reason: `status ${cap.status} is not for broadcasting` };
  const infos = cap.info
    .map((info) => ({ info, language: languageOfCap(info.language) }))
    .filter((i): i is { info: CapInfo; language: LanguageCode } => i.language !== undefined);
  const main = infos.find((i) => i.language === 'vie') ?? infos[0];
  if (!main)
    return {
      ok: false,
      reason: `no info block in a language we broadcast (${cap.info.map((i) => i.language).join(', ') || 'none'})`,
    };
  const headline: Record<string, string> = {};
  const instruction: Record<string, string> = {};
  for (const { info, language } of infos) {
    headline[language] ??= clip(info.headline ?? info.event, 300);
    const says = info.instruction ?? info.description;
    if (says) instruction[language] ??= clip(says, 2000);
  }
  const areas = infos.flatMap(({ info }) => info.area);
  const areaCodes = [
    ...new Set(areas.flatMap((a) => a.geocode.filter((g) => geocodeNames.includes(g.valueName)).map((g) => g.value))),
  ];
  const polygons = areas.flatMap((a) => a.polygon) as Polygon[];
  const circles = areas.flatMap((a) => a.circle);
  if (areaCodes.length + polygons.length + circles.length === 0)
    return {
      ok: false,
      reason: `no area we can target: give a polygon, a circle, or a geocode named ${geocodeNames.join(' or ')}`,
    };
  const sent = parseCapDateTime(cap.sent) ?? now.getTime();
  const expires = main.info.expires ? parseCapDateTime(main.info.expires) : sent + DEFAULT_LIFETIME_MS;
  return {
    ok: true,
    alert: {
      status: cap.status,
      hazard: hazardOf(main.info),
      riskLevel: riskLevelOf(main.info),
      headline,
      instruction,
      expiresAt: new Date(expires ?? sent + DEFAULT_LIFETIME_MS),
      areaCodes,
      polygons,
      circles,
    },
  };
}

export interface CapExportContext {
  sender: string;
  /** Names of the alert's areas, by code. */
  areaNames: Map<string, string>;
  /** The geocode name our area codes are exported under. */
  geocodeName: string;
  /** The message this one updates (identifier and sent), if any. */
  references?: { identifier: string; sent: Date };
}

/** Our alert as a CAP 1.2 message: Alert, Update (of the one it references), or Cancel once cancelled. */
export function capFromAlert(row: Alert, context: CapExportContext): CapAlert {
  const at = (d: Date) => formatCapDateTime(d.getTime(), VIETNAM_OFFSET_MIN);
  const hazard = row.hazard as Hazard;
  const headline = row.headline as Record<string, string>;
  const instruction = row.instruction as Record<string, string>;
  const sentAt = row.issuedAt ?? row.createdAt;
  const cancelled = row.state === 'cancelled' && row.cancelledAt;
  const references = cancelled
    ? [{ sender: context.sender, identifier: row.identifier, sent: at(sentAt) }]
    : context.references
      ? [{ sender: context.sender, identifier: context.references.identifier, sent: at(context.references.sent) }]
      : [];
  const area = {
    areaDesc: row.areaCodes.map((c) => context.areaNames.get(c) ?? c).join(', ') || 'Vùng vẽ trên bản đồ',
    polygon: (row.polygons as Polygon[]).map((ring) => {
      const closed = [...ring];
      const [first, last] = [ring[0], ring.at(-1)];
      if (first && last && (first[0] !== last[0] || first[1] !== last[1])) closed.push(first);
      return closed as [number, number][];
    }),
    circle: row.circles as Circle[],
    geocode: row.areaCodes.map((value) => ({ valueName: context.geocodeName, value })),
  };
  return {
    identifier: cancelled ? `${row.identifier}.cancel` : row.identifier,
    sender: context.sender,
    sent: at(cancelled ? (row.cancelledAt as Date) : sentAt),
    status: row.status,
    msgType: cancelled ? 'Cancel' : references.length ? 'Update' : 'Alert',
    scope: 'Public',
    code: [],
    references,
    ...(cancelled && row.cancelReason ? { note: row.cancelReason } : {}),
    info: Object.keys(headline).map((language) => ({
      language: capLanguageOf(language),
      category: [CATEGORY[hazard] ?? 'Other'],
      event: language === 'vie' ? HAZARD_NAMES[hazard].vi : HAZARD_NAMES[hazard].en,
      responseType: [],
      urgency: 'Immediate',
      severity: SEVERITY[row.riskLevel as RiskLevel],
      certainty: 'Likely',
      eventCode: [{ valueName: HAZARD_EVENT_CODE, value: hazard }],
      expires: at(row.expiresAt),
      ...(headline[language] ? { headline: headline[language] } : {}),
      ...(instruction[language] ? { instruction: instruction[language] } : {}),
      parameter: [{ valueName: RISK_LEVEL_PARAMETER, value: String(row.riskLevel) }],
      resource: [],
      area: [area],
    })),
  };
}
