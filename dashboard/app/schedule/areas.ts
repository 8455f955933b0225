import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import { areasWith, type Me } from '../shell/session.tsx';
import type { Area } from './api-types.ts';

/** Every area the user may see (the API pages them; a province has a few hundred at most). */
export async function loadAreas(): Promise<Area[]> {
  const areas: Area[] = [];
  let cursor: string | undefined;
  do {
    const page = await must(api.GET('/areas', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } }));
    areas.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return areas;
}

/** Whether `area` is `code` or lies below it (areas only name their parent). */
function isWithin(area: Area, code: string, byCode: Map<string, Area>): boolean {
  for (let at: Area | undefined = area; at; at = at.parentCode ? byCode.get(at.parentCode) : undefined)
    if (at.code === code) return true;
  return false;
}

/** The areas where the user may create and schedule announcements (official or emergency role), top first. */
export function schedulableAreas(areas: Area[], me: Me): Area[] {
  const granted = areasWith(me, 'official', 'emergency');
  const byCode = new Map(areas.map((a) => [a.code, a]));
  return areas.filter((a) => granted.some((code) => isWithin(a, code, byCode)));
}

/** Areas a calendar can usefully show: the user's own grants and the communes below them (not single villages). */
export function calendarAreas(areas: Area[], me: Me): Area[] {
  const granted = new Set(areasWith(me, 'official', 'emergency', 'technician'));
  const byCode = new Map(areas.map((a) => [a.code, a]));
  return areas.filter(
    (a) => granted.has(a.code) || (a.level === 'commune' && [...granted].some((code) => isWithin(a, code, byCode))),
  );
}

/** "Xã Y Tý (02680)" */
export const areaLabel = (area: Area) => `${area.name} (${area.code})`;
