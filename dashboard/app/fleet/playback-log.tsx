import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { loadAllPages } from '../api/all-pages.ts';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { must } from '../api/problem.ts';
import type { paths } from '../api/schema';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime, formatTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';

type Delivery = paths['/deliveries']['get']['responses'][200]['content']['application/json']['items'][number];

const DAY_MS = 24 * 3600_000;
const SHOWN = 200;

/**
 * What this receiver aired (proof of play): its deliveries in the chosen period, newest
 * first, re-read a moment after one of them changes.
 */
export function PlaybackLog({ receiverId }: { receiverId: string }) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const [days, setDays] = useState(1);
  const [progress, setProgress] = useState(0);
  const loaded = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - days * DAY_MS);
    setProgress(0);
    const all = await loadAllPages(
      (cursor) =>
        must(
          api.GET('/deliveries', {
            params: {
              query: {
                receiver: receiverId,
                from: from.toISOString(),
                to: to.toISOString(),
                limit: 500,
                ...(cursor ? { cursor } : {}),
              },
            },
          }),
        ),
      (so) => setProgress(so.length),
      () => false,
    );
    return all.sort((a, b) => b.startsAt.localeCompare(a.startsAt));
  }, [receiverId, days]);

  // A play event moves a delivery: read again once the burst has passed.
  const debounce = useRef<ReturnType<typeof setTimeout>>(undefined);
  const { reload } = loaded;
  useFleetEvents((event) => {
    if (event.type !== 'delivery.state' || event.receiverId !== receiverId) return;
    clearTimeout(debounce.current);
    debounce.current = setTimeout(reload, 1000);
  });
  useEffect(() => () => clearTimeout(debounce.current), []);

  const items: Delivery[] = loaded.data ?? [];
  const played = (d: Delivery) =>
    d.startedAt
      ? t('playedFromTo', {
          from: formatTime(d.startedAt, language),
          to: d.finishedAt ? formatTime(d.finishedAt, language) : '…',
        })
      : '';
  return (
    <section className="receiver-section" aria-labelledby="playback-heading">
      <h2 id="playback-heading">{t('sectionPlayback')}</h2>
      <p className="muted">{t('playbackHint')}</p>
      <div className="inline-label">
        <label htmlFor={`${receiverId}-playback-range`}>{t('playbackRange')}</label>
        <select id={`${receiverId}-playback-range`} value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={1}>{t('range1')}</option>
          <option value={3}>{t('range3')}</option>
          <option value={7}>{t('range7')}</option>
        </select>
      </div>
      {loaded.loading && loaded.data === undefined && !loaded.error ? (
        <p role="status">{t('playbackLoading', { n: progress })}</p>
      ) : (
        <LoadStatus loaded={loaded} />
      )}
      {loaded.data && items.length === 0 && <p>{t('playbackEmpty')}</p>}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="card-table">
            <thead>
              <tr>
                <th scope="col">{t('colAirtime')}</th>
                <th scope="col">{t('colProgramme')}</th>
                <th scope="col">{t('colPlayState')}</th>
                <th scope="col">{t('colNote')}</th>
              </tr>
            </thead>
            <tbody>
              {items.slice(0, SHOWN).map((d) => (
                <tr key={d.id} className={`delivery-${d.state}`}>
                  <td data-label={t('colAirtime')}>{formatDateTime(d.startsAt, language)}</td>
                  <td data-label={t('colProgramme')}>{d.title}</td>
                  <td data-label={t('colPlayState')}>
                    {t(`delivery_${d.state}`)} <small>{played(d)}</small>
                  </td>
                  <td data-label={t('colNote')}>{d.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
