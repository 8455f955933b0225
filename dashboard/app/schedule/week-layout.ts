import { vietnamParts } from '../i18n/time.ts';
import type { TimelineItem } from './api-types.ts';

export const DAY_MS = 86_400_000;
/** The grid's rows are quarter hours. */
export const SLOT_MIN = 15;
/** Even a 1-minute item gets two rows, so its time and title can be read. */
const MIN_SLOTS = 2;

export interface PlacedItem {
  item: TimelineItem;
  day: number;
  /** Grid lines (1-based; line 1 is above the day headers). */
  rowStart: number;
  rowEnd: number;
  lane: number;
  lanes: number;
}

export interface WeekLayout {
  firstHour: number;
  lastHour: number;
  placed: PlacedItem[];
  byDay: TimelineItem[][];
}

/**
 * Places a week's airtimes on a days × quarter-hours grid (Vietnam time: every Vietnamese
 * day is 24 h, there is no daylight saving). Hours shown are 05:00–22:00 widened to hold
 * every item; overlapping items share their day's column in lanes side by side.
 */
export function layoutWeek(items: TimelineItem[], weekStart: Date): WeekLayout {
  const byDay: TimelineItem[][] = Array.from({ length: 7 }, () => []);
  const spans: Array<{ item: TimelineItem; day: number; from: number; to: number }> = [];
  for (const item of items) {
    const start = Date.parse(item.startsAt);
    const day = Math.floor((start - weekStart.getTime()) / DAY_MS);
    if (day < 0 || day > 6) continue;
    byDay[day]?.push(item);
    const dayStart = weekStart.getTime() + day * DAY_MS;
    const from = (start - dayStart) / 60_000;
    const to = Math.min(24 * 60, (Date.parse(item.endsAt) - dayStart) / 60_000);
    spans.push({ item, day, from, to: Math.max(to, from + 1) });
  }
  let firstHour = 5;
  let lastHour = 22;
  for (const s of spans) {
    firstHour = Math.min(firstHour, Math.floor(s.from / 60));
    lastHour = Math.min(24, Math.max(lastHour, Math.ceil(Math.max(s.to, s.from + MIN_SLOTS * SLOT_MIN) / 60)));
  }
  const row = (minute: number) => Math.floor(minute / SLOT_MIN) - firstHour * (60 / SLOT_MIN) + 2;
  /** The line below the last row. */
  const end = (lastHour - firstHour) * (60 / SLOT_MIN) + 2;
  const placed: PlacedItem[] = [];
  for (let day = 0; day < 7; day++) {
    const today = spans
      .filter((s) => s.day === day)
      .sort((a, b) => a.from - b.from)
      .map((s) => {
        const rowEnd = Math.min(end, Math.max(row(s.from) + MIN_SLOTS, row(s.to - 0.001) + 1));
        const rowStart = Math.max(2, Math.min(row(s.from), rowEnd - MIN_SLOTS));
        return { item: s.item, day, rowStart, rowEnd, lane: 0, lanes: 1 };
      });
    // Greedy lanes within clusters of items that overlap (transitively).
    let cluster: PlacedItem[] = [];
    let clusterEnd = 0;
    const close = () => {
      const lanes = Math.max(1, ...cluster.map((p) => p.lane + 1));
      for (const p of cluster) p.lanes = lanes;
      cluster = [];
    };
    for (const p of today) {
      if (cluster.length > 0 && p.rowStart >= clusterEnd) close();
      const laneEnds: number[] = [];
      for (const q of cluster) laneEnds[q.lane] = Math.max(laneEnds[q.lane] ?? 0, q.rowEnd);
      let lane = laneEnds.findIndex((end) => end <= p.rowStart);
      if (lane < 0) lane = laneEnds.length;
      p.lane = lane;
      cluster.push(p);
      clusterEnd = Math.max(clusterEnd, p.rowEnd);
      placed.push(p);
    }
    close();
  }
  for (const list of byDay) list.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  return { firstHour, lastHour, placed, byDay };
}

/** The Monday (Vietnam date, YYYY-MM-DD) of a week, for the address bar. */
export function weekParam(weekStart: Date): string {
  const { year, month, day } = vietnamParts(weekStart);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether an airtime was cancelled: every delivery it has is cancelled. */
export function isCancelled(item: TimelineItem): boolean {
  const states = Object.keys(item.deliveries);
  return states.length > 0 && states.every((s) => s === 'cancelled');
}
