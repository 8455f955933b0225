import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { ApiError, errorMessage, must } from '../api/problem.ts';
import { applyEvent } from './live-receiver.ts';
import type { Area, Receiver } from './receiver-view.ts';

/** Telemetry has no live event; the page reads the receiver again this often for its readings and last seen. */
const REFRESH_MS = 10_000;

export interface LiveReceiver {
  receiver: Receiver | undefined;
  /** The receiver's village first, then the areas above it as far as the user may read. */
  areas: Area[];
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** One receiver, kept current by live events (online, faults) and a quiet re-read every 10 s. */
export function useReceiver(id: string): LiveReceiver {
  const [receiver, setReceiver] = useState<Receiver>();
  const [areas, setAreas] = useState<Area[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const current = useRef(id);
  current.current = id;

  const read = useCallback(async () => {
    try {
      const fresh = await must(api.GET('/receivers/{id}', { params: { path: { id } } }));
      if (current.current !== id) return;
      setReceiver(fresh);
      setError(undefined);
    } catch (failure) {
      if (current.current === id) setError(errorMessage(failure));
    } finally {
      if (current.current === id) setLoading(false);
    }
  }, [id]);

  useEffect(() => {
    setReceiver(undefined);
    setLoading(true);
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [read]);

  const villageCode = receiver?.villageCode;
  useEffect(() => {
    if (!villageCode) return;
    let cancelled = false;
    (async () => {
      const chain: Area[] = [];
      let code: string | null = villageCode;
      // Up the tree until the top or an area above the user's scope (403).
      while (code && chain.length < 6) {
        try {
          const area: Area = await must(api.GET('/areas/{code}', { params: { path: { code } } }));
          chain.push(area);
          code = area.parentCode;
        } catch (failure) {
          if (!(failure instanceof ApiError)) throw failure;
          break;
        }
      }
      if (!cancelled) setAreas(chain);
    })().catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [villageCode]);

  useFleetEvents((event) => {
    if ('receiverId' in event && event.receiverId === id) setReceiver((r) => r && applyEvent(r, event));
  });

  return { receiver, areas, error, loading, reload: () => void read() };
}
