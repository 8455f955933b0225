import { Type } from '@sinclair/typebox';

/**
 * Priority classes, lowest first. normal / priority / emergency are the national
 * bulletin classes (thông thường / ưu tiên / khẩn cấp); live speech from an official
 * ranks between priority and emergency.
 */
export const PRIORITIES = ['normal', 'priority', 'live', 'emergency'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const PRIORITY_NAMES: Record<Priority, { vi: string; en: string }> = {
  normal: { vi: 'Thông thường', en: 'Normal' },
  priority: { vi: 'Ưu tiên', en: 'Priority' },
  live: { vi: 'Phát trực tiếp', en: 'Live speech' },
  emergency: { vi: 'Khẩn cấp', en: 'Emergency' },
};

export const PrioritySchema = Type.Union(
  PRIORITIES.map((p) => Type.Literal(p)),
  { title: 'Priority', description: 'Priority class: normal < priority < live < emergency' },
);

/** Rank of a priority class: a higher rank pre-empts a lower one. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/** Negative when a ranks below b, zero when equal, positive when a ranks above b. */
export function comparePriority(a: Priority, b: Priority): number {
  return priorityRank(a) - priorityRank(b);
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}
