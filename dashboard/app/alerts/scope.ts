import { areasWith, type Me } from '../shell/session.tsx';
import type { Area, Receiver } from './alert-api.ts';

/** The codes of an area's ancestors and itself, from the parentCode chain. */
function lineage(code: string, byCode: ReadonlyMap<string, Area>): string[] {
  const chain: string[] = [];
  for (let at: string | null | undefined = code; at && chain.length < 10; at = byCode.get(at)?.parentCode)
    chain.push(at);
  return chain;
}

/**
 * What an emergency user may alert: the areas at or below their emergency grants (admins:
 * everywhere they administer) and the receivers in those areas' villages.
 */
export class AlertScope {
  readonly byCode: ReadonlyMap<string, Area>;
  /** Areas the user may target, top first (as GET /areas answers). */
  readonly areas: readonly Area[];
  readonly receivers: readonly Receiver[];

  constructor(me: Me, areas: readonly Area[], receivers: readonly Receiver[]) {
    this.byCode = new Map(areas.map((a) => [a.code, a]));
    const grants = new Set(areasWith(me, 'emergency'));
    this.areas = areas.filter((a) => lineage(a.code, this.byCode).some((c) => grants.has(c)));
    const mine = new Set(this.areas.map((a) => a.code));
    this.receivers = receivers.filter((r) => mine.has(r.villageCode));
  }

  /** Whether a village lies in (or is) any of these areas. */
  villageIn(villageCode: string, areaCodes: ReadonlySet<string>): boolean {
    return areaCodes.size > 0 && lineage(villageCode, this.byCode).some((c) => areaCodes.has(c));
  }

  /** Depth below the top of the user's scope, for indenting the area list. */
  depth(area: Area): number {
    return lineage(area.code, this.byCode).filter((c) => this.areas.some((a) => a.code === c)).length - 1;
  }

  name(code: string): string {
    return this.byCode.get(code)?.name ?? code;
  }
}
