import { loadAllPages } from './all-pages.ts';
import { api } from './client.ts';
import type { Json } from './json.ts';
import { must } from './problem.ts';
import type { paths } from './schema';

/** An area as GET /areas answers it (with its outline, GeoJSON [lon, lat], where one is stored). */
export type Area = Json<paths['/areas']['get']['responses'][200]>['items'][number];
export type AreaQuery = Omit<NonNullable<paths['/areas']['get']['parameters']['query']>, 'cursor' | 'limit'>;

/** Every area the user may see, all pages of GET /areas, top first (in path order). */
export function loadAreas(query: AreaQuery = {}, cancelled?: () => boolean): Promise<Area[]> {
  return loadAllPages(
    (cursor) => must(api.GET('/areas', { params: { query: { limit: 500, ...query, ...(cursor ? { cursor } : {}) } } })),
    undefined,
    cancelled,
  );
}

/** Whether `area` is `code` or lies below it (areas name only their parent). */
export function isWithin(area: Area, code: string, byCode: ReadonlyMap<string, Area>): boolean {
  for (let at: Area | undefined = area; at; at = at.parentCode ? byCode.get(at.parentCode) : undefined)
    if (at.code === code) return true;
  return false;
}
