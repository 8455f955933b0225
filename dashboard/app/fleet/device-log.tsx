import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';

const POLL_MS = 2000;
const WAIT_MS = 60_000;

export interface DeviceLogProps {
  receiverId: string;
  /** A logs command just sent: poll until its lines arrive (or a minute has passed). */
  awaiting: { commandId: string; since: number } | null;
}

/** The log lines the receiver sent back after a "logs" action, newest first. */
export function DeviceLog({ receiverId, awaiting }: DeviceLogProps) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const loaded = useLoad(
    () => must(api.GET('/receivers/{id}/logs', { params: { path: { id: receiverId } } })),
    [receiverId, awaiting?.commandId],
  );
  const items = loaded.data?.items ?? [];
  const arrived = awaiting === null || items.some((i) => i.commandId === awaiting.commandId);
  const { reload, loading } = loaded;
  useEffect(() => {
    if (arrived || loading || !awaiting || Date.now() - awaiting.since > WAIT_MS) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [arrived, loading, awaiting, reload]);

  return (
    <section className="receiver-section" aria-labelledby="logs-heading">
      <h2 id="logs-heading">{t('sectionLogs')}</h2>
      <p className="muted">{t('logsHint')}</p>
      <LoadStatus loaded={loaded} />
      {!arrived && awaiting && Date.now() - awaiting.since <= WAIT_MS && (
        <p role="status" className="muted">
          {t('historyWaiting')}
        </p>
      )}
      {loaded.data && items.length === 0 && <p>{t('logsEmpty')}</p>}
      {items.map((entry, i) => (
        <details key={`${entry.commandId}-${entry.receivedAt}`} open={i === 0}>
          <summary>
            {t('logsReceived', { time: formatDateTime(entry.receivedAt, language), n: entry.lines.length })}
          </summary>
          <pre className="device-log">{entry.lines.join('\n')}</pre>
        </details>
      ))}
    </section>
  );
}
