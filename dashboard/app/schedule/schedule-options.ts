import type { TFunction } from 'i18next';
import type { ContentCategory } from './api-types.ts';

type T = TFunction<'schedule'>;

export const START_MODES = ['hard', 'next', 'wait'] as const;
export type StartMode = (typeof START_MODES)[number];

export function startModeLabel(t: T, mode: string): string {
  switch (mode) {
    case 'hard':
      return t('startMode_hard');
    case 'next':
      return t('startMode_next');
    case 'wait':
      return t('startMode_wait');
    default:
      return mode;
  }
}

export const CATEGORIES: readonly ContentCategory[] = ['announcement', 'notice', 'news', 'programme', 'other'];

export function categoryLabel(t: T, category: string): string {
  return t(`category_${category as ContentCategory}`, { defaultValue: category });
}
