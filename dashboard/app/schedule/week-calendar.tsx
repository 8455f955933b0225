import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { loadAreas } from '../api/areas.ts';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDay, fromVietnamInput, startOfVietnamWeek } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { TimelineItem } from './api-types.ts';
import { areaLabel, calendarAreas } from './areas.ts';
import { DayList } from './day-list.tsx';
import { PRIORITIES, priorityClass, priorityLabel } from './labels.ts';
import { OccurrencePanel } from './occurrence-panel.tsx';
import { useMediaQuery } from './use-media-query.ts';
import { WeekGrid } from './week-grid.tsx';
import { DAY_MS, weekParam } from './week-layout.ts';
import './schedule.css';

/** Reloads of the timeline after live events are gathered for this long (a whole commune reports at once). */
const REFRESH_DEBOUNCE_MS = 1000;

function weekFrom(param: string | null): Date {
  if (param && /^\d{4}-\d{2}-\d{2}$/.test(param)) {
    try {
      return startOfVietnamWeek(fromVietnamInput(`${param}T12:00`));
    } catch {
      // An address typed by hand: fall back to this week.
    }
  }
  return startOfVietnamWeek(new Date());
}

/** The commune's week: airtimes on a days × hours grid (a day list on a phone), live delivery counts. */
export function WeekCalendar() {
  const me = useMe();
  if (!hasRole(me, 'official', 'emergency')) return <Forbidden />;
  return <WeekCalendarPage />;
}

function WeekCalendarPage() {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const wide = useMediaQuery('(min-width: 48rem)');
  const areas = useLoad(() => loadAreas(), []);
  const choices = useMemo(() => (areas.data ? calendarAreas(areas.data, me) : []), [areas.data, me]);
  const area = params.get('area') ?? choices[0]?.code;
  const weekStart = weekFrom(params.get('week'));
  const from = weekStart.toISOString();
  const to = new Date(weekStart.getTime() + 7 * DAY_MS).toISOString();
  const timeline = useLoad(
    async () =>
      area ? (await must(api.GET('/timeline', { params: { query: { area, from, to } } }))).items : undefined,
    [area, from, to],
  );
  const [selected, setSelected] = useState<TimelineItem | null>(null);

  // Live counts: any delivery change of an airtime on screen reloads the week (batched).
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reload = timeline.reload;
  const shown = useMemo(() => new Set((timeline.data ?? []).map((i) => i.occurrenceId)), [timeline.data]);
  useFleetEvents((event) => {
    const relevant =
      (event.type === 'delivery.state' && shown.has(event.occurrenceId)) || event.type === 'delivery.acknowledged';
    if (!relevant || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      reload();
    }, REFRESH_DEBOUNCE_MS);
  });
  useEffect(() => () => clearTimeout(pending.current), []);

  // The open panel follows the reloaded counts of its airtime.
  const current = selected ? (timeline.data?.find((i) => i.occurrenceId === selected.occurrenceId) ?? selected) : null;

  const go = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) next.delete(key);
      else next.set(key, value);
    }
    setSelected(null);
    setParams(next);
  };
  const shift = (weeks: number) => go({ week: weekParam(new Date(weekStart.getTime() + weeks * 7 * DAY_MS)) });
  const thisWeek = weekParam(startOfVietnamWeek(new Date()));
  const weekEnd = new Date(weekStart.getTime() + 6 * DAY_MS);

  return (
    <section className="week-calendar">
      <h1>{t('calendarTitle')}</h1>
      <div className="calendar-bar">
        <nav aria-label={t('weekNavigation')} className="week-nav">
          <button type="button" onClick={() => shift(-1)}>
            {t('previousWeek')}
          </button>
          <button type="button" onClick={() => go({ week: null })} disabled={weekParam(weekStart) === thisWeek}>
            {t('thisWeek')}
          </button>
          <button type="button" onClick={() => shift(1)}>
            {t('nextWeek')}
          </button>
        </nav>
        <p className="week-label" aria-live="polite">
          {t('weekOf', { from: formatDay(weekStart, language), to: formatDay(weekEnd, language) })}
        </p>
        {choices.length > 1 && (
          <label className="area-picker">
            {t('area')}
            <select value={area ?? ''} onChange={(e) => go({ area: e.target.value })}>
              {choices.map((a) => (
                <option key={a.code} value={a.code}>
                  {areaLabel(a)}
                </option>
              ))}
            </select>
          </label>
        )}
        <p className="calendar-actions">
          <Link to="/announcements/new">{t('newAnnouncement')}</Link> ·{' '}
          <Link to="/schedule/new">{t('scheduleNew')}</Link>
        </p>
      </div>
      <ul className="legend" aria-label={t('priorityLegend')}>
        {PRIORITIES.map((p) => (
          <li key={p}>
            <span className={`swatch ${priorityClass(p)}`} aria-hidden="true" /> {priorityLabel(t, p)}
          </li>
        ))}
      </ul>
      <LoadStatus loaded={areas} />
      {areas.data && !area && <p>{t('noAreas')}</p>}
      <LoadStatus loaded={timeline} />
      {current && (
        <OccurrencePanel
          key={current.occurrenceId}
          item={current}
          onClose={() => setSelected(null)}
          onCancelled={timeline.reload}
        />
      )}
      {timeline.data &&
        (wide ? (
          <WeekGrid items={timeline.data} weekStart={weekStart} onSelect={setSelected} />
        ) : (
          <DayList items={timeline.data} weekStart={weekStart} onSelect={setSelected} />
        ))}
      {timeline.data?.length === 0 && <p className="muted">{t('emptyWeek')}</p>}
    </section>
  );
}
