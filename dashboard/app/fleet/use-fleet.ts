import type { FleetEvent } from '@loa/protocols';
import { useCallback, useEffect, useRef, useState } from 'react';
import { loadAllPages } from '../api/all-pages.ts';
import { api } from '../api/client.ts';
import { useEventsState, useFleetEvents } from '../api/events.tsx';
import { errorMessage, must } from '../api/problem.ts';
import { applyEvent, isReceiverEvent } from './live-receiver.ts';
import type { Area, Receiver } from './receiver-view.ts';

const PAGE = 500;
/** Live events are applied in batches: a sweep flagging a thousand receivers is one render, not a thousand. */
const FLUSH_MS = 200;
/** Signal, battery and versions have no live event: the list is read again quietly this often. */
const REFRESH_MS = 60_000;
/** …and less often for a large fleet, whose full list is megabytes on a commune's 3G. */
const LARGE_FLEET = 2000;
const LARGE_REFRESH_MS = 300_000;

export interface Fleet {
  receivers: Receiver[];
  areas: ReadonlyMap<string, Area>;
  /** The first load is still following pages; `receivers` holds what has arrived. */
  loading: boolean;
  error: string | undefined;
  loadedAt: Date | undefined;
  reload(): void;
}

/**
 * Every receiver and area the user may see, loaded page by page, kept current by the
 * live events (online/offline, faults). When the event stream was lost and comes back,
 * the list is read again, since events sent meanwhile are gone; it is also read again every
 * minute (quietly: the rows on screen stay until the new list is whole) for the readings.
 */
export function useFleet(): Fleet {
  const [receivers, setReceivers] = useState<Receiver[]>([]);
  const [areas, setAreas] = useState<ReadonlyMap<string, Area>>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [loadedAt, setLoadedAt] = useState<Date>();
  const [round, setRound] = useState(0);
  /** Events since the current load began, re-applied to each page as it arrives. */
  const sinceLoad = useRef<FleetEvent[]>([]);
  const pending = useRef<FleetEvent[]>([]);
  const flushTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  /** Whether a whole list has been shown: later loads replace it at once instead of page by page. */
  const whole = useRef(false);
  /** Areas change rarely: read on the first load and when the user reloads, not every minute. */
  const areasWanted = useRef(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` is the reload request
  useEffect(() => {
    let cancelled = false;
    let refresh: ReturnType<typeof setTimeout> | undefined;
    sinceLoad.current = [];
    if (!whole.current) setLoading(true);
    // Every area's name without outlines (a province has thousands of villages), then the
    // communes' outlines for the map.
    const pagesOf = (query: { boundary?: boolean; level?: Area['level'] }) =>
      loadAllPages(
        async (cursor) =>
          must(api.GET('/areas', { params: { query: { limit: PAGE, ...query, ...(cursor ? { cursor } : {}) } } })),
        () => {},
        () => cancelled,
      );
    const withAreas = areasWanted.current;
    let areasDone = !withAreas;
    areasWanted.current = false;
    const areasLoad = withAreas
      ? Promise.all([pagesOf({ boundary: false }), pagesOf({ level: 'commune' })]).then(
          ([all, communes]) => {
            if (cancelled) return;
            areasDone = true;
            const byCode = new Map(all.map((a) => [a.code, a]));
            for (const c of communes) byCode.set(c.code, c);
            setAreas(byCode);
          },
          (failure: unknown) => {
            areasWanted.current = true;
            throw failure;
          },
        )
      : Promise.resolve();
    const receiversLoad = loadAllPages(
      async (cursor) =>
        must(api.GET('/receivers', { params: { query: { limit: PAGE, ...(cursor ? { cursor } : {}) } } })),
      (loaded, done) => {
        if (whole.current && !done) return;
        const events = sinceLoad.current;
        setReceivers(events.length ? loaded.map((r) => events.reduce(applyEvent, r)) : [...loaded]);
      },
      () => cancelled,
    );
    const again = (count: number) => {
      refresh = setTimeout(() => setRound((r) => r + 1), count > LARGE_FLEET ? LARGE_REFRESH_MS : REFRESH_MS);
    };
    Promise.all([areasLoad, receiversLoad]).then(
      ([, list]) => {
        if (cancelled) return;
        whole.current = true;
        setLoadedAt(new Date());
        setError(undefined);
        setLoading(false);
        again(list.length);
      },
      (failure: unknown) => {
        if (cancelled) return;
        setError(errorMessage(failure));
        setLoading(false);
        again(0);
      },
    );
    return () => {
      cancelled = true;
      // Left before the areas came: the next load reads them.
      if (!areasDone) areasWanted.current = true;
      clearTimeout(refresh);
    };
  }, [round]);

  useFleetEvents((event) => {
    if (!isReceiverEvent(event)) return;
    sinceLoad.current.push(event);
    pending.current.push(event);
    flushTimer.current ??= setTimeout(() => {
      flushTimer.current = undefined;
      const batch = pending.current.splice(0);
      setReceivers((list) => list.map((r) => batch.reduce(applyEvent, r)));
    }, FLUSH_MS);
  });
  useEffect(() => () => clearTimeout(flushTimer.current), []);

  const reload = useCallback(() => {
    areasWanted.current = true;
    setRound((r) => r + 1);
  }, []);
  // Reconnected after a loss: what happened meanwhile only shows by reading again.
  const events = useEventsState();
  const previous = useRef(events);
  useEffect(() => {
    if (events === 'open' && previous.current === 'closed') reload();
    previous.current = events;
  }, [events, reload]);

  return { receivers, areas, loading, error, loadedAt, reload };
}
