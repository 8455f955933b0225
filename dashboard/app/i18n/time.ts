import type { Language } from './strings.ts';

/** Every date and time is shown in Vietnamese local time, wherever the browser is. */
export const VIETNAM_TZ = 'Asia/Ho_Chi_Minh';
/** Vietnam keeps UTC+7 all year (no daylight saving), so wall time ↔ instant is a fixed shift. */
const OFFSET_MS = 7 * 3600_000;

const locale = (language: Language) => (language === 'vi' ? 'vi-VN' : 'en-GB');

export function formatDateTime(value: string | Date | null | undefined, language: Language): string {
  if (!value) return '—';
  return new Intl.DateTimeFormat(locale(language), {
    timeZone: VIETNAM_TZ,
    dateStyle: 'short',
    timeStyle: 'medium',
  }).format(new Date(value));
}

export function formatTime(value: string | Date, language: Language): string {
  return new Intl.DateTimeFormat(locale(language), { timeZone: VIETNAM_TZ, hour: '2-digit', minute: '2-digit' }).format(
    new Date(value),
  );
}

export function formatDay(value: string | Date, language: Language): string {
  return new Intl.DateTimeFormat(locale(language), {
    timeZone: VIETNAM_TZ,
    weekday: 'short',
    day: 'numeric',
    month: 'numeric',
  }).format(new Date(value));
}

/** The Vietnamese wall-clock fields of an instant (for calendars). */
export function vietnamParts(value: string | Date): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
} {
  const shifted = new Date(new Date(value).getTime() + OFFSET_MS);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    /** 0 = Monday … 6 = Sunday (Vietnamese weeks start on Monday). */
    weekday: (shifted.getUTCDay() + 6) % 7,
  };
}

/** Midnight (Vietnam) of the Monday of the week holding `value`, as an instant. */
export function startOfVietnamWeek(value: string | Date): Date {
  const { year, month, day, weekday } = vietnamParts(value);
  return new Date(Date.UTC(year, month - 1, day - weekday) - OFFSET_MS);
}

/** An instant as the value of an `<input type="datetime-local">`, in Vietnam time. */
export function toVietnamInput(value: string | Date): string {
  return new Date(new Date(value).getTime() + OFFSET_MS).toISOString().slice(0, 16);
}

/** A `datetime-local` value read as Vietnam time, as an ISO instant. */
export function fromVietnamInput(value: string): string {
  const wall = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  if (Number.isNaN(wall)) throw new Error(`not a date and time: ${value}`);
  return new Date(wall - OFFSET_MS).toISOString();
}
