import type { ParseKeys } from 'i18next';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { errorMessage } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { areasWith, hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { type AlertStatus, announceAlertsChanged, fetchCapMessages, postCap } from './alert-api.ts';
import { StatusMark, textOf } from './alert-marks.tsx';
import './alerts.css';

const OUTCOMES: ReadonlyArray<{ value: string; label: ParseKeys<'alerts'> }> = [
  { value: '', label: 'filterAll' },
  { value: 'draft', label: 'outcome_draft' },
  { value: 'update', label: 'outcome_update' },
  { value: 'cancelled', label: 'outcome_cancelled' },
  { value: 'refused', label: 'outcome_refused' },
  { value: 'ignored', label: 'outcome_ignored' },
  { value: 'duplicate', label: 'outcome_duplicate' },
];
const outcomeLabel = (outcome: string): ParseKeys<'alerts'> =>
  OUTCOMES.find((o) => o.value === outcome)?.label ?? 'outcome_other';

/** The CAP inbox (cap): every CAP message taken in, the policy's decision, and the alert it became. */
export function CapInbox() {
  const { t } = useTranslation('alerts');
  const language = useLanguage();
  const me = useMe();
  const [outcome, setOutcome] = useState('');
  const messages = useLoad(() => fetchCapMessages(outcome || undefined), [outcome]);
  if (!hasRole(me, 'emergency')) return <Forbidden />;
  const feeds = areasWith(me, 'emergency');

  return (
    <section className="cap-inbox">
      <h1>{t('capInboxTitle')}</h1>
      <p>{t('capInboxIntro')}</p>
      <label className="inline-select">
        {t('outcomeFilter')}{' '}
        <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          {OUTCOMES.map((o) => (
            <option key={o.value} value={o.value}>
              {t(o.label)}
            </option>
          ))}
        </select>
      </label>{' '}
      <button type="button" onClick={messages.reload}>
        {t('refresh')}
      </button>
      <LoadStatus loaded={messages} />
      {messages.data && messages.data.length === 0 && <p className="muted">{t('capInboxEmpty')}</p>}
      {messages.data && messages.data.length > 0 && (
        <div className="table-scroll">
          <table className="cap-table">
            <thead>
              <tr>
                <th>{t('colReceived')}</th>
                <th>{t('colSender')}</th>
                <th>{t('colType')}</th>
                <th>{t('colOutcome')}</th>
                <th>{t('colAlert')}</th>
              </tr>
            </thead>
            <tbody>
              {messages.data.map((m) => (
                <tr key={m.id} className={`cap-row outcome-${m.outcome}`}>
                  <td>
                    {formatDateTime(m.receivedAt, language)}
                    <br />
                    <small className="muted">
                      {m.source.startsWith('post ')
                        ? t('sourcePost', { user: m.source.slice(5) })
                        : t('sourceFeed', { url: m.source })}
                    </small>
                  </td>
                  <td>
                    {m.sender}
                    <br />
                    <small className="muted cap-identifier">{m.identifier}</small>
                  </td>
                  <td>{m.msgType}</td>
                  <td>
                    <span className={`outcome-badge outcome-${m.outcome}`}>{t(outcomeLabel(m.outcome))}</span>
                    {m.detail && <p className="cap-detail">{m.detail}</p>}
                  </td>
                  <td>
                    {m.alert ? (
                      <>
                        <StatusMark status={m.alert.status as AlertStatus} />{' '}
                        <Link to={`/alerts/${m.alert.id}`}>{textOf(m.alert.headline, language)}</Link>
                        <br />
                        <small>{t(`state_${m.alert.state as 'draft'}`, { defaultValue: m.alert.state })}</small>
                      </>
                    ) : (
                      <span className="muted">{t('noAlert')}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CapIntake onTaken={messages.reload} />
      <section aria-labelledby="cap-feeds-title">
        <h2 id="cap-feeds-title">{t('capFeedsTitle')}</h2>
        <p className="muted">{t('capFeedsHint')}</p>
        <ul>
          {feeds.map((code) => (
            <li key={code}>
              <a href={`/cap/feeds/${encodeURIComponent(code)}`}>{t('capFeedLink', { code })}</a>
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}

/** Takes in a CAP document by hand (pasted or from a file): it goes through the same policy as a polled feed. */
function CapIntake({ onTaken }: { onTaken(): void }) {
  const { t } = useTranslation('alerts');
  const [xml, setXml] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ outcome: string; detail: string; alertId: string | null }>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    if (!xml.trim()) {
      setError(t('capPasteEmpty'));
      return;
    }
    setBusy(true);
    try {
      setResult(await postCap(xml));
      announceAlertsChanged();
      onTaken();
    } catch (failure) {
      setError(errorMessage(failure));
      onTaken();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="cap-intake" onSubmit={(e) => void submit(e)}>
      <h2>{t('capIntakeTitle')}</h2>
      <p className="muted">{t('capIntakeHint')}</p>
      <label>
        {t('capFile')}
        <input
          type="file"
          accept=".xml,.cap,application/cap+xml,application/xml,text/xml"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then(setXml);
          }}
        />
      </label>
      <label>
        {t('capPaste')}
        <textarea rows={6} value={xml} onChange={(e) => setXml(e.target.value)} spellCheck={false} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <p className="ok" role="status">
          {t('capTaken', { outcome: t(outcomeLabel(result.outcome)), detail: result.detail })}{' '}
          {result.alertId && <Link to={`/alerts/${result.alertId}`}>{t('capOpenAlert')}</Link>}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? t('capSending') : t('capSend')}
      </button>
    </form>
  );
}
