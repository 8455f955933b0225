/** A UTC instant as Vietnamese wall-clock time for the API's `startLocal` (UTC+7, no daylight saving). */
export function vietnamLocal(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 19);
}
