import type { EventsHello, FleetEvent } from '@loa/protocols';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';

type Listener = (event: FleetEvent) => void;
export type EventsState = 'connecting' | 'open' | 'closed';

interface EventsHub {
  state: EventsState;
  subscribe(listener: Listener): () => void;
}

const EventsContext = createContext<EventsHub>({ state: 'closed', subscribe: () => () => {} });

/**
 * One WebSocket to /events for the whole app while signed in, reopened with backoff
 * (1 s doubling to 30 s) when the link drops: commune offices sit on flaky 3G.
 */
export function EventsProvider({ children }: { children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const [state, setState] = useState<EventsState>('connecting');

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    let stopped = false;
    const open = () => {
      setState('connecting');
      const url = new URL('/events', window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      socket = new WebSocket(url);
      socket.onmessage = (message) => {
        const event = JSON.parse(String(message.data)) as FleetEvent | EventsHello;
        if (event.type === 'hello') {
          delay = 1000;
          setState('open');
          return;
        }
        for (const listener of listeners.current) listener(event);
      };
      socket.onclose = () => {
        if (stopped) return;
        setState('closed');
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, []);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const hub = useMemo(() => ({ state, subscribe }), [state, subscribe]);
  return <EventsContext.Provider value={hub}>{children}</EventsContext.Provider>;
}

/** Calls `listener` for every live event while the component is mounted. */
export function useFleetEvents(listener: Listener): void {
  const hub = useContext(EventsContext);
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => hub.subscribe((event) => latest.current(event)), [hub.subscribe]);
}

export function useEventsState(): EventsState {
  return useContext(EventsContext).state;
}
