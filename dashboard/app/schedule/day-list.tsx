import { useTranslation } from 'react-i18next';
import { formatDay, formatTime, startOfVietnamWeek } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import type { TimelineItem } from './api-types.ts';
import { deliverySummary, priorityClass, priorityLabel } from './labels.ts';
import { DAY_MS, isCancelled, layoutWeek } from './week-layout.ts';

/** The week on a phone: each day's airtimes as a list, today marked. */
export function DayList({
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
  const { byDay } = layoutWeek(items, weekStart);
  const today =
    startOfVietnamWeek(new Date()).getTime() === weekStart.getTime()
      ? Math.floor((Date.now() - weekStart.getTime()) / DAY_MS)
      : -1;
  return (
    <div className="day-list">
      {byDay.map((list, d) => {
        const day = new Date(weekStart.getTime() + d * DAY_MS);
        return (
          <section key={day.toISOString()} className={d === today ? 'day today' : 'day'}>
            <h2>
              {formatDay(day, language)}
              {d === today && <span className="today-tag"> {t('today')}</span>}
            </h2>
            {list.length === 0 ? (
              <p className="muted">{t('noAirtimes')}</p>
            ) : (
              <ul>
                {list.map((item) => {
                  const cancelled = isCancelled(item);
                  return (
                    <li key={item.occurrenceId}>
                      <button
                        type="button"
                        className={`occurrence-row ${priorityClass(item.priority)}${cancelled ? ' cancelled' : ''}`}
                        onClick={() => onSelect(item)}
                      >
                        <span className="occ-time">
                          {formatTime(item.startsAt, language)}–{formatTime(item.endsAt, language)}
                        </span>{' '}
                        <strong className="occ-title">{item.title}</strong>{' '}
                        <span className="priority-tag">{priorityLabel(t, item.priority)}</span>
                        <span className="occ-counts">
                          {cancelled ? t('cancelledTag') : deliverySummary(t, item.deliveries)}
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}
