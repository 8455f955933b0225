import { useCallback, useEffect, useRef, useState } from 'react';
import { useFleetEvents } from '../api/events.tsx';
import { errorMessage } from '../api/problem.ts';
import { type Alert, type AlertState, fetchAlerts, onAlertsChanged } from './alert-api.ts';

export interface AlertListOptions {
  /** Re-read this often as a safety net (the events make most refreshes). */
  refreshMs: number;
  /** Many receivers answer at once: one refresh for a burst of deliveries, this long after its first. */
  settleMs: number;
  /** Keeps the alerts the view shows (e.g. only those waiting for approval). */
  select?: (alerts: Alert[]) => Alert[];
  /** Deliveries of alerts already listed change nothing in the list (the bar names no counts). */
  ignoreDeliveriesOfListed?: boolean;
}

/**
 * The alerts of one state (all when undefined) in the user's scope, read again every
 * `refreshMs`, at once when any alert view of this page announces a change (the bar relays
 * the controller's `alert.changed`), and after a burst of deliveries.
 */
export function useAlertList(state: AlertState | undefined, options: AlertListOptions) {
  const { refreshMs, settleMs, select, ignoreDeliveriesOfListed } = options;
  const [alerts, setAlerts] = useState<Alert[]>();
  const [error, setError] = useState<string>();
  const listed = useRef(new Set<string>());
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const chosen = useRef(select);
  chosen.current = select;
  const load = useCallback(() => {
    fetchAlerts(state).then(
      (items) => {
        const shown = chosen.current ? chosen.current(items) : items;
        listed.current = new Set(shown.map((a) => a.id));
        setAlerts(shown);
        setError(undefined);
      },
      (failure: unknown) => setError(errorMessage(failure)),
    );
  }, [state]);
  useEffect(() => {
    load();
    const timer = setInterval(load, refreshMs);
    const unsubscribe = onAlertsChanged(load);
    return () => {
      clearInterval(timer);
      unsubscribe();
      clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, [load, refreshMs]);
  useFleetEvents((event) => {
    if (event.type !== 'alert.delivery' || pending.current) return;
    if (ignoreDeliveriesOfListed && listed.current.has(event.alertId)) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      load();
    }, settleMs);
  });
  return { alerts, error, reload: load };
}
