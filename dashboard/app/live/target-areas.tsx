import { useTranslation } from 'react-i18next';
import type { Area } from '../api/areas.ts';
import { areasWith, type Me } from '../shell/session.tsx';

/** An area the user may speak to, with its depth below the user's own area (for indenting). */
export interface SpeakableArea extends Area {
  depth: number;
  /** Codes of its ancestors among the speakable areas (to show a chosen parent includes it). */
  ancestors: string[];
}

/**
 * The areas where the user may open live speech: those of their official or emergency
 * grants and everything below them (a technician's grant does not count; admins' do).
 */
export function speakableAreas(me: Me, areas: Area[]): SpeakableArea[] {
  const grants = new Set(areasWith(me, 'official', 'emergency'));
  const byCode = new Map(areas.map((a) => [a.code, a]));
  const chainOf = (area: Area): string[] => {
    const chain: string[] = [];
    for (let up = area.parentCode; up; up = byCode.get(up)?.parentCode ?? null) chain.unshift(up);
    return chain;
  };
  const out: SpeakableArea[] = [];
  for (const area of areas) {
    const chain = chainOf(area);
    const rootAt = [...chain, area.code].findIndex((code) => grants.has(code));
    if (rootAt < 0) continue;
    const ancestors = chain.slice(rootAt);
    out.push({ ...area, depth: ancestors.length, ancestors });
  }
  return out;
}

/** The user's own area chosen at first when it is a commune or a village (a province-wide default would be rash). */
export function defaultTargets(areas: SpeakableArea[]): string[] {
  const roots = areas.filter((a) => a.depth === 0);
  const only = roots.length === 1 ? roots[0] : undefined;
  return only && (only.level === 'commune' || only.level === 'village') ? [only.id] : [];
}

/** The chosen ids without those a chosen parent already includes (the controller would leave them out too). */
export function effectiveTargets(areas: SpeakableArea[], chosen: ReadonlySet<string>): string[] {
  const chosenCodes = new Set(areas.filter((a) => chosen.has(a.id)).map((a) => a.code));
  return areas.filter((a) => chosen.has(a.id) && !a.ancestors.some((c) => chosenCodes.has(c))).map((a) => a.id);
}

/** Checkboxes of the areas to speak to, indented as the tree; a chosen area's villages show as included. */
export function TargetAreas({
  areas,
  chosen,
  onChange,
}: {
  areas: SpeakableArea[];
  chosen: ReadonlySet<string>;
  onChange(next: Set<string>): void;
}) {
  const { t } = useTranslation('live');
  const chosenCodes = new Set(areas.filter((a) => chosen.has(a.id)).map((a) => a.code));
  return (
    <fieldset className="target-areas">
      <legend>{t('targetsLegend')}</legend>
      {areas.length === 0 && <p className="error">{t('targetsNone')}</p>}
      <ul className={areas.length > 10 ? 'target-list long' : 'target-list'}>
        {areas.map((area) => {
          const included = area.ancestors.some((c) => chosenCodes.has(c));
          return (
            <li key={area.id} style={{ paddingLeft: `${area.depth * 1.25}rem` }}>
              <label>
                <input
                  type="checkbox"
                  checked={included || chosen.has(area.id)}
                  disabled={included}
                  onChange={(event) => {
                    const next = new Set(chosen);
                    if (event.target.checked) next.add(area.id);
                    else next.delete(area.id);
                    onChange(next);
                  }}
                />{' '}
                {area.name} <small className="muted">({t(`level_${area.level}`)})</small>
                {included && <small className="muted"> — {t('targetIncluded')}</small>}
              </label>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
