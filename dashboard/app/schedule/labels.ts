import type { TFunction } from 'i18next';
import type { DeliveryState, LanguageCode, Priority } from './api-types.ts';

type T = TFunction<'schedule'>;

export const PRIORITIES: readonly Priority[] = ['normal', 'priority', 'emergency'];

/** The priority's name (colour is never the only sign of it). */
export function priorityLabel(t: T, priority: string): string {
  switch (priority) {
    case 'normal':
      return t('priority_normal');
    case 'priority':
      return t('priority_priority');
    case 'emergency':
      return t('priority_emergency');
    default:
      return priority;
  }
}

/** CSS class colouring an item by its priority (base.css --priority-* variables). */
export const priorityClass = (priority: string) =>
  `priority-${PRIORITIES.includes(priority as Priority) ? priority : 'normal'}`;

export const DELIVERY_STATES: readonly DeliveryState[] = [
  'planned',
  'provisioned',
  'acknowledged',
  'started',
  'finished',
  'interrupted',
  'failed',
  'missed',
  'cancelled',
];

export function stateLabel(t: T, state: string): string {
  return DELIVERY_STATES.includes(state as DeliveryState) ? t(`state_${state as DeliveryState}`) : state;
}

export function languageName(t: T, code: string): string {
  return t(`lang_${code as LanguageCode}`, { defaultValue: code });
}

/** A playing time as m:ss (or h:mm:ss). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A delivery count per state, summarised with each state's name ("Đã phát xong: 20 · Bị lỡ: 5"). */
export function deliverySummary(t: T, counts: Record<string, number>): string {
  const parts = DELIVERY_STATES.filter((state) => counts[state]).map(
    (state) => `${stateLabel(t, state)}: ${counts[state]}`,
  );
  return parts.length > 0 ? parts.join(' · ') : t('noReceivers');
}
