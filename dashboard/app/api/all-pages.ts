/** One page of a cursor-paginated list, as every controller list answers. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Follows nextCursor to the end. `onPage` gets everything loaded so far after each page,
 * so a province of thousands of receivers shows up (and counts its progress) as it loads.
 * Stops quietly when `cancelled()` turns true (the page was left or reloaded).
 */
export async function loadAllPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  onPage: (loaded: T[], done: boolean) => void = () => {},
  cancelled: () => boolean = () => false,
): Promise<T[]> {
  const loaded: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    if (cancelled()) return loaded;
    loaded.push(...page.items);
    const done = page.nextCursor === null || page.items.length === 0;
    onPage(loaded, done);
    if (done) return loaded;
    cursor = page.nextCursor ?? undefined;
  }
}
