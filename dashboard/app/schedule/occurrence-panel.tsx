import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime, formatTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { TimelineItem } from './api-types.ts';
import { DELIVERY_STATES, formatDuration, languageName, priorityClass, priorityLabel, stateLabel } from './labels.ts';
import { describeRule } from './recurrence.ts';
import { startModeLabel } from './schedule-options.ts';
import { isCancelled } from './week-layout.ts';

/** One airtime: its schedule's details, its deliveries by state, and cancelling it (after confirming). */
export function OccurrencePanel({
  item,
  onClose,
  onCancelled,
}: {
  item: TimelineItem;
  onClose: () => void;
  onCancelled: () => void;
}) {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const schedule = useLoad(
    () => must(api.GET('/schedules/{id}', { params: { path: { id: item.scheduleId } } })),
    [item.scheduleId],
  );
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  // Focus moves into the panel, and back to the airtime it was opened from when it closes.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on opening and closing
  useEffect(() => {
    heading.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const cancelled = isCancelled(item);
  const over = Date.parse(item.endsAt) <= Date.now();
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await must(
        api.POST('/occurrences/{id}/cancel', {
          params: { path: { id: item.occurrenceId } },
          body: reason.trim() ? { reason: reason.trim() } : {},
        }),
      );
      setDone(t('cancelDone', { count: answer.cancelledDeliveries }));
      setConfirming(false);
      onCancelled();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };
  const s = schedule.data;
  return (
    <aside
      className={`occurrence-panel ${priorityClass(item.priority)}`}
      aria-labelledby="occurrence-heading"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <div className="panel-head">
        <h2 id="occurrence-heading" ref={heading} tabIndex={-1}>
          {item.title}
        </h2>
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <dl className="facts">
        <dt>{t('when')}</dt>
        <dd>
          {formatDateTime(item.startsAt, language)} – {formatTime(item.endsAt, language)}
        </dd>
        <dt>{t('priority')}</dt>
        <dd>
          <span className={`priority-tag ${priorityClass(item.priority)}`}>{priorityLabel(t, item.priority)}</span>
        </dd>
        <dt>{t('deliveries')}</dt>
        <dd>
          <ul className="state-counts">
            {DELIVERY_STATES.filter((state) => item.deliveries[state]).map((state) => (
              <li key={state} className={`state state-${state}`}>
                {stateLabel(t, state)}: {item.deliveries[state]}
              </li>
            ))}
          </ul>
        </dd>
        {s && (
          <>
            <dt>{t('repeats')}</dt>
            <dd>{describeRule(t, s.rrule)}</dd>
            <dt>{t('startMode')}</dt>
            <dd>
              {startModeLabel(t, s.startMode)}
              {s.waitS !== null && ` (${t('waitUpTo', { minutes: Math.round(s.waitS / 60) })})`}
            </dd>
            <dt>{t('duration')}</dt>
            <dd>{formatDuration(s.durationMs)}</dd>
            <dt>{t('targets')}</dt>
            <dd>{[...s.targets.areas, ...s.targets.receivers].join(', ')}</dd>
            <dt>{t('volume')}</dt>
            <dd>{s.volume}</dd>
            <dt>{t('repeatCount')}</dt>
            <dd>{s.repeat}</dd>
            <dt>{t('prelude')}</dt>
            <dd>{t(`prelude_${s.prelude as 'none' | 'chime' | 'siren'}`, { defaultValue: s.prelude })}</dd>
            {s.languages.length > 0 && (
              <>
                <dt>{t('languages')}</dt>
                <dd>{s.languages.map((code) => languageName(t, code)).join(', ')}</dd>
              </>
            )}
            {s.relayUrl && (
              <>
                <dt>{t('relayUrl')}</dt>
                <dd className="wrap">{s.relayUrl}</dd>
              </>
            )}
            {!s.enabled && (
              <>
                <dt>{t('status')}</dt>
                <dd>{t('withdrawn')}</dd>
              </>
            )}
          </>
        )}
      </dl>
      <LoadStatus loaded={schedule} />
      <p>
        <Link to={`/proof-of-play?schedule=${item.scheduleId}`}>{t('seeProofOfPlay')}</Link>
      </p>
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {cancelled ? (
        <p>
          <strong>{t('cancelledTag')}</strong>
        </p>
      ) : over ? (
        <p className="muted">{t('airtimeOver')}</p>
      ) : confirming ? (
        <fieldset className="confirm">
          <legend>{t('cancelConfirm', { title: item.title, when: formatDateTime(item.startsAt, language) })}</legend>
          <label>
            {t('cancelReason')}
            <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button type="button" className="danger" onClick={() => void cancel()} disabled={busy}>
            {busy ? t('cancelling') : t('cancelYes')}
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)} disabled={busy}>
            {t('cancelNo')}
          </button>
        </fieldset>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          {t('cancelOccurrence')}
        </button>
      )}
    </aside>
  );
}
