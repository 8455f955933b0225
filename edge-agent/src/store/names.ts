/**
 * Storage names are relative paths with `/` between segments, the same for the file
 * system and in memory, so the simulator's in-memory store behaves like a receiver's data
 * directory.
 */

/** Prefix of the temp files of atomic writes; reserved, so a stored name can never be mistaken for one. */
export const TEMP_PREFIX = '.tmp-';

/** Returns the name if it stays inside the data directory; throws otherwise. */
export function checkName(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw Object.assign(new Error(`invalid storage name "${name}": ${problem}`), { code: 'EINVAL' });
  return name;
}

function nameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name === '') return 'empty';
  if (name.startsWith('/')) return 'absolute';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\\]/.test(name)) return 'control character or backslash';
  for (const segment of name.split('/')) {
    if (segment === '') return 'empty segment';
    if (segment === '.' || segment === '..') return 'dot segment';
    if (segment.startsWith(TEMP_PREFIX)) return 'reserved for temp files';
  }
  return undefined;
}

/**
 * A `list` prefix: a directory-like name ("assets" or "assets/"), or "" for everything.
 * Returns it without the trailing slash.
 */
export function checkPrefix(prefix: string): string {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return trimmed === '' ? '' : checkName(trimmed);
}
