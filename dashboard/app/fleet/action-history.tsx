import type { TFunction } from 'i18next';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import type { paths } from '../api/schema';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { recalledAction } from './action-labels.ts';
import { faultText } from './fleet-format.ts';

type Action = paths['/receivers/{id}/actions']['get']['responses'][200]['content']['application/json']['items'][number];
type T = TFunction<'fleet'>;

/** Commands are signed valid for a minute; past this without an answer, none will come. */
const ANSWER_WINDOW_MS = 90_000;
const POLL_MS = 1500;

const waiting = (a: Action, now: number) =>
  (a.result === null || a.result === 'accepted') && now - Date.parse(a.issuedAt) < ANSWER_WINDOW_MS;

export function actionLabel(t: T, a: Pick<Action, 'commandId' | 'kind'>): string {
  const body = recalledAction(a.commandId);
  switch (a.kind) {
    case 'device.volume':
      return body?.action === 'volume' ? t('kindVolumeTo', { volume: body.volume }) : t('kindVolume');
    case 'device.test':
      if (body?.action === 'test') return body.mode === 'silent' ? t('kindTestSilent') : t('kindTestAudible');
      return t('kindTest');
    case 'device.reboot':
      return t('kindReboot');
    case 'device.logs':
      return t('kindLogs');
    case 'device.config':
      return t('kindConfig');
    case 'device.reload':
      return t('kindReload');
    default:
      return a.kind;
  }
}

/** The receiver's own words, explained where the agent's wording is known. */
function detailText(t: T, detail: string): string {
  if (detail.startsWith('no line check configured')) return t('detailNoProbe');
  const line = /^line check failed: (\w+)/.exec(detail);
  if (line?.[1]) return t('detailLineCheck', { fault: faultText(t, line[1]) });
  return detail;
}

function resultText(t: T, a: Action, now: number): string {
  const base =
    a.result === 'done'
      ? t('resultDone')
      : a.result === 'failed'
        ? t('resultFailed')
        : a.result === 'refused'
          ? t('resultRefused')
          : a.result === 'accepted'
            ? t('resultAccepted')
            : a.result === null
              ? now - Date.parse(a.issuedAt) < ANSWER_WINDOW_MS
                ? t('resultPending')
                : t('resultNoAnswer')
              : a.result;
  return a.detail ? t('resultWithDetail', { result: base, detail: detailText(t, a.detail) }) : base;
}

/**
 * Every command recently sent to the receiver with its answer (accepted, done, failed and
 * why). Re-read when `round` changes (an action was just sent) and every 1.5 s while one
 * is still waiting for its answer.
 */
export function ActionHistory({ receiverId, round }: { receiverId: string; round: number }) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const loaded = useLoad(
    () => must(api.GET('/receivers/{id}/actions', { params: { path: { id: receiverId } } })),
    [receiverId, round],
  );
  const items = loaded.data?.items ?? [];
  const now = Date.now();
  const anyWaiting = items.some((a) => waiting(a, now));
  const { reload, loading } = loaded;
  useEffect(() => {
    if (!anyWaiting || loading) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [anyWaiting, loading, reload]);

  return (
    <section className="receiver-section" aria-labelledby="history-heading">
      <h2 id="history-heading">{t('sectionHistory')}</h2>
      <LoadStatus loaded={loaded} />
      {anyWaiting && (
        <p role="status" className="muted">
          {t('historyWaiting')}
        </p>
      )}
      {loaded.data && items.length === 0 && <p>{t('historyEmpty')}</p>}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="action-history card-table">
            <thead>
              <tr>
                <th scope="col">{t('colSent')}</th>
                <th scope="col">{t('colAction')}</th>
                <th scope="col">{t('colResult')}</th>
                <th scope="col">{t('colAnswered')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.commandId} className={`result-${a.result ?? 'pending'}`}>
                  <td data-label={t('colSent')}>{formatDateTime(a.issuedAt, language)}</td>
                  <td data-label={t('colAction')}>{actionLabel(t, a)}</td>
                  <td data-label={t('colResult')} className="result">
                    {resultText(t, a, now)}
                  </td>
                  <td data-label={t('colAnswered')}>{formatDateTime(a.answeredAt, language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
