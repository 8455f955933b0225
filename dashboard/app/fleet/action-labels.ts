import type { paths } from '../api/schema';

export type ActionBody = NonNullable<
  paths['/receivers/{id}/actions']['post']['requestBody']
>['content']['application/json'];

/**
 * What was asked of each command sent from this browser tab (silent or audible test, which
 * volume), by command id. GET .../actions names only the command kind, so without this
 * a silent test and an audible one would look the same in the history.
 */
const KEY = 'loa.fleet.sentActions';

export function rememberAction(commandId: string, body: ActionBody): void {
  const all = readAll();
  all[commandId] = body;
  // Keep the last hundred: a tab open all day must not grow without end.
  const ids = Object.keys(all);
  for (const id of ids.slice(0, Math.max(0, ids.length - 100))) delete all[id];
  sessionStorage.setItem(KEY, JSON.stringify(all));
}

export function recalledAction(commandId: string): ActionBody | undefined {
  return readAll()[commandId];
}

function readAll(): Record<string, ActionBody> {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, ActionBody>) : {};
  } catch {
    return {};
  }
}
