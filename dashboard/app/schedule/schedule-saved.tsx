import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime, formatTime, startOfVietnamWeek } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { DAY_MS, weekParam } from './week-layout.ts';

/** After saving: what was planned, and the next airtimes as the controller materialised them. */
export function ScheduleSaved({
  scheduleId,
  title,
  area,
  occurrences,
  deliveries,
  onAnother,
}: {
  scheduleId: string;
  title: string;
  area: string;
  occurrences: number;
  deliveries: number;
  onAnother: () => void;
}) {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const next = useLoad(async () => {
    const from = new Date(Date.now() - 60 * 60_000);
    const to = new Date(from.getTime() + 8 * DAY_MS);
    const timeline = await must(
      api.GET('/timeline', { params: { query: { area, from: from.toISOString(), to: to.toISOString() } } }),
    );
    return timeline.items.filter((i) => i.scheduleId === scheduleId && Date.parse(i.endsAt) > Date.now()).slice(0, 10);
  }, [scheduleId, area]);
  const first = next.data?.[0];
  const week = first ? weekParam(startOfVietnamWeek(first.startsAt)) : null;
  return (
    <section className="schedule-saved">
      <h1>{t('scheduleSaved')}</h1>
      <p className="ok" role="status">
        {t('scheduleSavedDetail', { title, count: occurrences, deliveries })}
      </p>
      <h2>{t('nextAirtimes')}</h2>
      <LoadStatus loaded={next} />
      {next.data && next.data.length === 0 && <p className="muted">{t('noNextAirtimes')}</p>}
      {next.data && next.data.length > 0 && (
        <ol className="next-airtimes">
          {next.data.map((o) => (
            <li key={o.occurrenceId}>
              {formatDateTime(o.startsAt, language)} – {formatTime(o.endsAt, language)}
            </li>
          ))}
        </ol>
      )}
      <p className="links">
        <Link to={`/schedule?area=${encodeURIComponent(area)}${week ? `&week=${week}` : ''}`}>
          {t('seeOnCalendar')}
        </Link>
        {' · '}
        <Link to={`/proof-of-play?schedule=${scheduleId}`}>{t('seeProofOfPlay')}</Link>
        {' · '}
        <button type="button" onClick={onAnother}>
          {t('scheduleAnother')}
        </button>
      </p>
    </section>
  );
}
