import { type Area, isWithin } from '../api/areas.ts';
import { areasWith, type Me } from '../shell/session.tsx';

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
