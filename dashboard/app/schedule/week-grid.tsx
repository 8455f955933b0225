import type { CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDay, formatTime, startOfVietnamWeek } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import type { TimelineItem } from './api-types.ts';
import { deliverySummary, priorityClass, priorityLabel } from './labels.ts';
import { DAY_MS, isCancelled, layoutWeek, SLOT_MIN } from './week-layout.ts';

/**
 * The week as a CSS grid: a column per day (Monday first), a row per quarter hour.
 * Written by hand rather than with a calendar library: the ones on npm assume the
 * browser's own time zone (ours is always Vietnam's, wherever the browser is), pull in a
 * date library, and do not fit a 360 px phone — there the page shows a day list instead.
 */
export function WeekGrid({
  items,
  weekStart,
  onSelect,
}: {
  items: TimelineItem[];
  weekStart: Date;
  onSelect: (item: TimelineItem) => void;
}) {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const { firstHour, lastHour, placed } = layoutWeek(items, weekStart);
  const slotsPerHour = 60 / SLOT_MIN;
  const rows = (lastHour - firstHour) * slotsPerHour;
  const now = Date.now();
  const todayIndex =
    startOfVietnamWeek(new Date(now)).getTime() === weekStart.getTime()
      ? Math.floor((now - weekStart.getTime()) / DAY_MS)
      : -1;
  const nowMinute = (now - weekStart.getTime() - todayIndex * DAY_MS) / 60_000;
  const nowRow = nowMinute / SLOT_MIN - firstHour * slotsPerHour;
  const hours = Array.from({ length: lastHour - firstHour }, (_, i) => firstHour + i);
  const days = Array.from({ length: 7 }, (_, d) => new Date(weekStart.getTime() + d * DAY_MS));

  return (
    <section
      className="week-grid"
      aria-label={t('weekGrid')}
      style={{ '--slots': rows, '--slots-per-hour': slotsPerHour } as CSSProperties}
    >
      <div className="corner" aria-hidden="true" />
      {days.map((day, d) => (
        <h2
          key={day.toISOString()}
          className={d === todayIndex ? 'day-head today' : 'day-head'}
          style={{ gridColumn: d + 2 }}
        >
          {formatDay(day, language)}
          {d === todayIndex && <span className="today-tag"> {t('today')}</span>}
        </h2>
      ))}
      {hours.map((hour, i) => (
        <div
          key={hour}
          className="hour-label"
          aria-hidden="true"
          style={{ gridRow: `${i * slotsPerHour + 2} / span ${slotsPerHour}` }}
        >
          {String(hour).padStart(2, '0')}:00
        </div>
      ))}
      {days.map((day, d) => (
        <div
          key={`col-${day.toISOString()}`}
          className={d === todayIndex ? 'day-col today' : 'day-col'}
          aria-hidden="true"
          style={{ gridColumn: d + 2, gridRow: `2 / span ${rows}` }}
        />
      ))}
      {todayIndex >= 0 && nowRow >= 0 && nowRow <= rows && (
        <div
          className="now-line"
          aria-hidden="true"
          style={
            { gridColumn: todayIndex + 2, gridRow: `${Math.floor(nowRow) + 2}`, '--at': nowRow % 1 } as CSSProperties
          }
        />
      )}
      {placed.map((p) => {
        const { item } = p;
        const cancelled = isCancelled(item);
        // The full account (day, end time, receivers' reports) is in the tooltip and, for
        // screen readers, in hidden text around the visible words (the accessible name
        // must contain what is seen: WCAG 2.5.3).
        const label = [
          formatDay(item.startsAt, language),
          `${formatTime(item.startsAt, language)}–${formatTime(item.endsAt, language)}`,
          item.title,
          priorityLabel(t, item.priority),
          cancelled ? t('cancelledTag') : deliverySummary(t, item.deliveries),
        ].join(', ');
        const summary = cancelled ? '' : deliverySummary(t, item.deliveries);
        return (
          <button
            key={item.occurrenceId}
            type="button"
            className={`occurrence ${priorityClass(item.priority)}${cancelled ? ' cancelled' : ''}`}
            style={
              {
                gridColumn: p.day + 2,
                gridRow: `${p.rowStart} / ${p.rowEnd}`,
                '--lane': p.lane,
                '--lanes': p.lanes,
              } as CSSProperties
            }
            title={label}
            onClick={() => onSelect(item)}
          >
            <span className="visually-hidden">{formatDay(item.startsAt, language)}, </span>
            <span className="occ-time">{formatTime(item.startsAt, language)}</span>
            <span className="visually-hidden">–{formatTime(item.endsAt, language)}</span>{' '}
            <span className="occ-priority">{priorityLabel(t, item.priority)}</span>{' '}
            <span className="occ-title">{item.title}</span>
            {cancelled && <span className="occ-cancelled"> ({t('cancelledTag')})</span>}
            {summary && <span className="visually-hidden">, {summary}</span>}
          </button>
        );
      })}
    </section>
  );
}
