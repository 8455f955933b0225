import { Type } from '@sinclair/typebox';
import { Problem } from './problem.js';

/** Cursor pagination: the cursor is the opaque (base64url) id of the last item returned. */
export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 200, description: "From the previous page's nextCursor" })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
};

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!id || Buffer.from(id, 'utf8').toString('base64url') !== cursor)
    throw new Problem(
      400,
      'Bad Request',
      'invalid cursor: pass nextCursor from the previous page unchanged, or leave it out for the first page',
    );
  return id;
}

/** Given limit + 1 rows, returns the page and the cursor of the next one (null at the end). */
export function page<T extends { id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null };
}

/** The findMany arguments of one page: limit + 1 rows (to know if there is a next) after the cursor. */
export function pageArgs(query: { cursor?: string | undefined; limit: number }) {
  const id = decodeCursor(query.cursor);
  return { take: query.limit + 1, ...(id ? { cursor: { id }, skip: 1 } : {}) };
}
