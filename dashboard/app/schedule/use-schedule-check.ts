import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import type { CheckResult, ScheduleInput } from './api-types.ts';

/** How long the form must rest before it is checked again (every keystroke would flood a 3G link). */
const DEBOUNCE_MS = 600;

export interface ScheduleCheck {
  checking: boolean;
  result: CheckResult | null;
  error: string | undefined;
  /** Whether the result answers the form as it is now (not an earlier version of it). */
  current: boolean;
}

/** Checks the schedule being written (POST /schedules/check) whenever it changes, debounced; the newest answer wins. */
export function useScheduleCheck(body: ScheduleInput | null): ScheduleCheck {
  const key = body ? JSON.stringify(body) : '';
  const [state, setState] = useState<{ key: string; result: CheckResult | null; error?: string }>({
    key: '',
    result: null,
  });
  const [checking, setChecking] = useState(false);
  const latest = useRef('');
  useEffect(() => {
    latest.current = key;
    if (!key) {
      setChecking(false);
      return;
    }
    setChecking(true);
    const timer = setTimeout(() => {
      must(api.POST('/schedules/check', { body: JSON.parse(key) as ScheduleInput })).then(
        (result) => {
          if (latest.current !== key) return;
          setState({ key, result });
          setChecking(false);
        },
        (failure: unknown) => {
          if (latest.current !== key) return;
          setState({ key, result: null, error: errorMessage(failure) });
          setChecking(false);
        },
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [key]);
  return { checking, result: state.result, error: state.error, current: state.key === key && !!key };
}
