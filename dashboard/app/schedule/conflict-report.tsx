import { useTranslation } from 'react-i18next';
import { formatDateTime, formatTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { priorityClass, priorityLabel } from './labels.ts';
import type { ScheduleCheck } from './use-schedule-check.ts';

/** The check's answer before saving: airtimes, receivers reached, and what overlaps when. */
export function ConflictReport({
  check,
  problem,
  conflictsOnly = false,
}: {
  check: ScheduleCheck;
  problem?: string | undefined;
  conflictsOnly?: boolean;
}) {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const result = check.current ? check.result : null;
  const list = result && result.conflicts.length > 0 && (
    <ul className="conflicts">
      {result.conflicts.map((c) => (
        <li key={`${c.scheduleId}@${c.startsAt}`} className={priorityClass(c.priority)}>
          <strong>{c.title}</strong> ({priorityLabel(t, c.priority)}):{' '}
          {t('conflictWhen', {
            from: formatDateTime(c.startsAt, language),
            to: formatTime(c.endsAt, language),
            count: c.receivers,
          })}
        </li>
      ))}
    </ul>
  );
  if (conflictsOnly) return list || null;
  return (
    <section className="conflict-check" aria-labelledby="check-heading" aria-live="polite">
      <h2 id="check-heading">{t('checkTitle')}</h2>
      {problem ? (
        <p className="muted">{t('checkWaiting', { problem })}</p>
      ) : check.checking || !check.current ? (
        <p className="muted">{t('checking')}</p>
      ) : check.error ? (
        <p className="error" role="alert">
          {check.error}
        </p>
      ) : result ? (
        <>
          <p>{t('checkReach', { count: result.airtimes, receivers: result.receivers })}</p>
          {result.airtimes === 0 && <p className="warn">{t('checkNoAirtimes')}</p>}
          {result.conflicts.length === 0 ? (
            <p className="ok">{t('noConflicts')}</p>
          ) : (
            <>
              <p className="warn">{t('conflictsFound', { count: result.conflicts.length })}</p>
              {list}
            </>
          )}
        </>
      ) : null}
    </section>
  );
}
