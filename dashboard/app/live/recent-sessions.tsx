import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { LiveSession } from './live-speaker.ts';
import { clock, endReasonText, onAirSeconds, sessionStateText } from './session-words.ts';

const RECENT = 20;
const REFRESH_MS = 10_000;

/** The latest sessions the user may see (GET /live/sessions), refreshed every 10 s and when `round` changes. */
export function useRecentSessions(round: number) {
  const loaded = useLoad(
    async () => (await must(api.GET('/live/sessions', { params: { query: { limit: RECENT } } }))).items,
    [round],
  );
  const { reload } = loaded;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return loaded;
}

const isOpen = (s: LiveSession) => s.state === 'opening' || s.state === 'on_air';

/** Sessions on air now (other than the speaker's own): before pressing, the user sees who holds the loudspeakers. */
export function OpenSessions({
  sessions,
  ownId,
  areaNames,
}: {
  sessions: LiveSession[] | undefined;
  ownId: string | undefined;
  areaNames: Map<string, string>;
}) {
  const { t } = useTranslation('live');
  const open = (sessions ?? []).filter((s) => isOpen(s) && s.id !== ownId);
  if (open.length === 0) return null;
  return (
    <div className="open-sessions" role="status">
      <strong>{t('othersOnAir', { count: open.length })}</strong>
      <ul>
        {open.map((s) => (
          <li key={s.id}>
            “{s.title}” — {sessionStateText(t, s.state)} —{' '}
            {s.areaIds.map((id) => areaNames.get(id) ?? id).join(', ') || t('singleReceivers')}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RecentSessions({
  loaded,
  areaNames,
}: {
  loaded: ReturnType<typeof useRecentSessions>;
  areaNames: Map<string, string>;
}) {
  const { t } = useTranslation('live');
  const language = useLanguage();
  const sessions = loaded.data;
  return (
    <section aria-labelledby="live-recent-heading">
      <h2 id="live-recent-heading">{t('recentHeading')}</h2>
      <LoadStatus loaded={loaded} />
      {sessions && sessions.length === 0 && <p className="muted">{t('recentNone')}</p>}
      {sessions && sessions.length > 0 && (
        <div className="table-scroll">
          <table className="recent-sessions">
            <thead>
              <tr>
                <th scope="col">{t('colOpened')}</th>
                <th scope="col">{t('colTitle')}</th>
                <th scope="col">{t('colAreas')}</th>
                <th scope="col">{t('colState')}</th>
                <th scope="col">{t('colDuration')}</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => {
                const seconds = onAirSeconds(s);
                return (
                  <tr key={s.id} className={isOpen(s) ? 'session-open' : undefined}>
                    <td>{formatDateTime(s.openedAt, language)}</td>
                    <td>
                      {s.title}
                      {s.kind === 'relay' && <small className="muted"> ({t('kindRelay')})</small>}
                    </td>
                    <td>{s.areaIds.map((id) => areaNames.get(id) ?? id).join(', ') || t('singleReceivers')}</td>
                    <td>
                      {sessionStateText(t, s.state)}
                      {s.endReason && <small className="muted"> — {endReasonText(t, s.endReason)}</small>}
                    </td>
                    <td>{seconds === null ? '—' : clock(seconds)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
