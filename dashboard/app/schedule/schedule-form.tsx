import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { loadAreas } from '../api/areas.ts';
import { api } from '../api/client.ts';
import { ApiError, errorMessage, must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { formatDateTime, fromVietnamInput, toVietnamInput, VIETNAM_TZ, vietnamParts } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { areasWith, hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { Conflict, Content, Priority, ScheduleInput } from './api-types.ts';
import { areaLabel, schedulableAreas } from './areas.ts';
import { ConflictReport } from './conflict-report.tsx';
import { formatDuration, languageName, PRIORITIES, priorityClass, priorityLabel } from './labels.ts';
import { type Repeat, toRrule, WEEKDAYS, type Weekday } from './recurrence.ts';
import { START_MODES, type StartMode, startModeLabel } from './schedule-options.ts';
import { ScheduleSaved } from './schedule-saved.tsx';
import { useScheduleCheck } from './use-schedule-check.ts';
import './schedule.css';

/** Receivers need a moment to receive the schedule and fetch its audio before the first airtime. */
const SOONEST_LEAD_MS = 60_000;
/** Airing time of the amplifier's warm-up and the chime before the first language. */
const PRELUDE_MS = 3000;
/** Speech runs at about 12 characters a second; used to guess a text variant's length before it is synthesised. */
const CHARS_PER_SECOND = 12;

/** How often, and how many times, to look whether a text variant's speech has been made. */
const SPEECH_POLL_MS = 3000;
const SPEECH_POLLS = 20;

/** A datetime-local value (Vietnam time) with seconds: seconds are the same in every whole-hour time zone. */
function vietnamInputWithSeconds(at: Date): string {
  return `${toVietnamInput(at)}:${String(at.getUTCSeconds()).padStart(2, '0')}`;
}

/** The next quarter hour at least 10 minutes ahead: a sensible first guess for a start. */
function defaultStart(): string {
  const at = Date.now() + 10 * 60_000;
  return toVietnamInput(new Date(Math.ceil(at / (15 * 60_000)) * 15 * 60_000));
}

/** The content's airing length in ms (recorded or synthesised audio, else a guess from the text), per repeat. */
function contentLength(content: Content): { ms: number; estimated: boolean } {
  let ms = 0;
  let estimated = false;
  for (const v of content.variants) {
    if (v.asset) ms += v.asset.durationMs;
    else if (v.text) {
      ms += (v.text.length / CHARS_PER_SECOND) * 1000;
      estimated = true;
    }
  }
  return { ms, estimated };
}

export function ScheduleForm() {
  const me = useMe();
  if (!hasRole(me, 'official', 'emergency')) return <Forbidden />;
  return <ScheduleFormPage />;
}

function ScheduleFormPage() {
  const { t } = useTranslation('schedule');
  const language = useLanguage();
  const me = useMe();
  const [params] = useSearchParams();
  const areas = useLoad(() => loadAreas(), []);
  const targetsOffered = useMemo(() => (areas.data ? schedulableAreas(areas.data, me) : []), [areas.data, me]);
  const contents = useLoad(
    async () => (await must(api.GET('/content', { params: { query: { limit: 200 } } }))).items,
    [],
  );
  const [contentId, setContentId] = useState(params.get('content') ?? '');
  const content = useLoad(
    async () => (contentId ? must(api.GET('/content/{id}', { params: { path: { id: contentId } } })) : null),
    [contentId],
  );

  // Speech for text variants is made after saving: look again until it is there (its length sets the default duration).
  const polls = useRef(0);
  const speechPending = content.data?.variants.some((v) => v.kind === 'text' && !v.asset) ?? false;
  const reloadContent = content.reload;
  // biome-ignore lint/correctness/useExhaustiveDependencies: each answer (content.data) schedules the next look
  useEffect(() => {
    if (!speechPending || polls.current >= SPEECH_POLLS) return;
    const timer = setTimeout(() => {
      polls.current++;
      reloadContent();
    }, SPEECH_POLL_MS);
    return () => clearTimeout(timer);
  }, [speechPending, content.data, reloadContent]);

  const [title, setTitle] = useState('');
  const [titleTouched, setTitleTouched] = useState(false);
  const [targets, setTargets] = useState<string[] | null>(null);
  const [priority, setPriority] = useState<Priority>('normal');
  const [startMode, setStartMode] = useState<StartMode>('hard');
  const [waitMin, setWaitMin] = useState('10');
  const [start, setStart] = useState(defaultStart);
  const [repeatKind, setRepeatKind] = useState<Repeat['kind']>('once');
  const [interval, setIntervalDays] = useState('1');
  const [days, setDays] = useState<Weekday[]>([]);
  const [until, setUntil] = useState('');
  const [skipDate, setSkipDate] = useState('');
  const [skipped, setSkipped] = useState<string[]>([]);
  const [durationMin, setDurationMin] = useState('');
  const [volume, setVolume] = useState('80');
  const [repeatCount, setRepeatCount] = useState('1');
  const [prelude, setPrelude] = useState<ScheduleInput['prelude']>('chime');
  const [acceptConflicts, setAcceptConflicts] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const [refused, setRefused] = useState<Conflict[] | null>(null);
  const [saved, setSaved] = useState<{ id: string; occurrences: number; deliveries: number; area: string } | null>(
    null,
  );

  const mayEmergency = hasRole(me, 'emergency');
  const item = content.data ?? null;
  // Defaults that follow the content until the official changes them.
  const length = item ? contentLength(item) : null;
  const repeats = Math.max(1, Number(repeatCount) || 1);
  const suggestedMin = length ? Math.max(1, Math.ceil(((length.ms + PRELUDE_MS) * repeats) / 60_000)) : 5;
  const minutes = durationMin === '' ? suggestedMin : Number(durationMin);
  const shownTitle = titleTouched ? title : (item?.title ?? '');
  const granted = areasWith(me, 'official', 'emergency');
  const defaultTargets = item
    ? targetsOffered.some((a) => a.code === item.ownerAreaCode)
      ? [item.ownerAreaCode]
      : []
    : targetsOffered
        .filter((a) => granted.includes(a.code))
        .map((a) => a.code)
        .slice(0, 1);
  const chosenTargets = targets ?? defaultTargets;

  useEffect(() => {
    if (repeatKind === 'weekly' && days.length === 0 && start) {
      const weekday = WEEKDAYS[vietnamParts(fromVietnamInput(start)).weekday];
      if (weekday) setDays([weekday]);
    }
  }, [repeatKind, days.length, start]);

  const repeat: Repeat =
    repeatKind === 'once'
      ? { kind: 'once' }
      : repeatKind === 'daily'
        ? { kind: 'daily', interval: Math.max(1, Number(interval) || 1) }
        : { kind: 'weekly', days };

  // The body exactly as it will be saved; null while something required is missing.
  let body: ScheduleInput | null = null;
  let formProblem: string | undefined;
  try {
    if (!item) formProblem = t('chooseContent');
    else if (!shownTitle.trim()) formProblem = t('titleNeeded');
    else if (chosenTargets.length === 0) formProblem = t('chooseTargets');
    else if (!start) formProblem = t('chooseStart');
    else if (!(minutes > 0)) formProblem = t('chooseDuration');
    else {
      fromVietnamInput(start);
      const rrule = toRrule(repeat);
      const time = start.slice(11);
      body = {
        title: shownTitle.trim(),
        contentId: item.id,
        startLocal: start,
        timezone: VIETNAM_TZ,
        ...(rrule ? { rrule } : {}),
        exdates: rrule ? skipped.map((date) => `${date}T${time}`) : [],
        ...(rrule && until ? { validUntil: fromVietnamInput(`${until}T23:59:59`) } : {}),
        durationMs: Math.round(minutes * 60_000),
        priority,
        startMode,
        ...(startMode === 'wait' ? { waitS: Math.round(Math.max(0, Number(waitMin) || 0) * 60) } : {}),
        volume: Math.min(100, Math.max(0, Math.round(Number(volume) || 0))),
        repeat: Math.min(100, repeats),
        prelude,
        languages: [],
        targets: { areas: chosenTargets, receivers: [] },
        acceptConflicts: false,
      };
    }
  } catch (failure) {
    formProblem = errorMessage(failure);
  }
  const check = useScheduleCheck(saved ? null : body);
  const conflicts = check.current ? (check.result?.conflicts ?? []) : [];

  const save = async () => {
    if (!body) return;
    setSaving(true);
    setSaveError(undefined);
    setRefused(null);
    try {
      const answer = await must(api.POST('/schedules', { body: { ...body, acceptConflicts } }));
      setSaved({ ...answer, area: chosenTargets[0] as string });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409)
        setRefused((failure.problem.conflicts as Conflict[] | undefined) ?? []);
      setSaveError(errorMessage(failure));
    } finally {
      setSaving(false);
    }
  };

  if (saved)
    return (
      <ScheduleSaved
        scheduleId={saved.id}
        title={shownTitle}
        area={saved.area}
        occurrences={saved.occurrences}
        deliveries={saved.deliveries}
        onAnother={() => setSaved(null)}
      />
    );

  const toggleTarget = (code: string) =>
    setTargets(chosenTargets.includes(code) ? chosenTargets.filter((c) => c !== code) : [...chosenTargets, code]);
  const toggleDay = (day: Weekday) =>
    setDays(days.includes(day) ? days.filter((d) => d !== day) : WEEKDAYS.filter((d) => d === day || days.includes(d)));

  return (
    <section className="schedule-form">
      <h1>{t('scheduleTitle')}</h1>
      <LoadStatus loaded={areas} />
      <LoadStatus loaded={contents} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>{t('whatToAir')}</legend>
          <label>
            {t('content')}
            <select value={contentId} onChange={(e) => setContentId(e.target.value)}>
              <option value="">{t('chooseContentOption')}</option>
              {item && !contents.data?.some((c) => c.id === item.id) && <option value={item.id}>{item.title}</option>}
              {contents.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title} ({c.ownerAreaCode})
                </option>
              ))}
            </select>
          </label>
          <LoadStatus loaded={content} />
          {item && (
            <p className="muted">
              {t('contentVariants', {
                languages: item.variants
                  .map(
                    (v) =>
                      `${languageName(t, v.language)} ${v.asset ? formatDuration(v.asset.durationMs) : t('variantTextPending')}`,
                  )
                  .join(', '),
              })}
            </p>
          )}
          <label>
            {t('scheduleName')}
            <input
              value={shownTitle}
              maxLength={200}
              onChange={(e) => {
                setTitleTouched(true);
                setTitle(e.target.value);
              }}
            />
          </label>
        </fieldset>

        <fieldset>
          <legend>{t('targets')}</legend>
          <ul className="checks">
            {targetsOffered.map((a) => (
              <li key={a.code} className={a.level === 'village' ? 'indent' : ''}>
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={chosenTargets.includes(a.code)}
                    onChange={() => toggleTarget(a.code)}
                  />{' '}
                  {areaLabel(a)}
                  <span className="muted"> — {a.languages.map((l) => languageName(t, l)).join(', ')}</span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>

        <fieldset>
          <legend>{t('priority')}</legend>
          {PRIORITIES.filter((p) => p !== 'emergency' || mayEmergency).map((p) => (
            <label key={p} className="inline">
              <input type="radio" name="priority" checked={priority === p} onChange={() => setPriority(p)} />{' '}
              <span className={`swatch ${priorityClass(p)}`} aria-hidden="true" /> {priorityLabel(t, p)}
              <span className="muted"> — {t(`priorityHint_${p}`)}</span>
            </label>
          ))}
        </fieldset>

        <fieldset>
          <legend>{t('when')}</legend>
          <div className="form-row">
            <label>
              {t('startLocal')}
              <input type="datetime-local" step={1} value={start} required onChange={(e) => setStart(e.target.value)} />
            </label>
            <p className="soonest">
              <button
                type="button"
                onClick={() => setStart(vietnamInputWithSeconds(new Date(Date.now() + SOONEST_LEAD_MS)))}
              >
                {t('soonest')}
              </button>
              <span className="muted"> {t('soonestHint')}</span>
            </p>
          </div>
          {start && <p className="muted">{t('startsAt', { when: formatDateTime(safeInstant(start), language) })}</p>}
          <div className="modes" role="radiogroup" aria-label={t('repeats')}>
            {(['once', 'daily', 'weekly'] as const).map((kind) => (
              <label key={kind} className="inline">
                <input type="radio" name="repeat" checked={repeatKind === kind} onChange={() => setRepeatKind(kind)} />{' '}
                {t(`repeatKind_${kind}`)}
              </label>
            ))}
          </div>
          {repeatKind === 'daily' && (
            <label>
              {t('everyNDays')}
              <input
                type="number"
                min={1}
                max={365}
                value={interval}
                onChange={(e) => setIntervalDays(e.target.value)}
              />
            </label>
          )}
          {repeatKind === 'weekly' && (
            <fieldset className="weekdays">
              <legend>{t('onDays')}</legend>
              {WEEKDAYS.map((d) => (
                <label key={d} className="inline">
                  <input type="checkbox" checked={days.includes(d)} onChange={() => toggleDay(d)} /> {t(`weekday_${d}`)}
                </label>
              ))}
            </fieldset>
          )}
          {repeatKind !== 'once' && (
            <>
              <label>
                {t('until')}
                <input type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
              </label>
              <div className="skip-dates">
                <label>
                  {t('skipDate')}
                  <input type="date" value={skipDate} onChange={(e) => setSkipDate(e.target.value)} />
                </label>
                <button
                  type="button"
                  disabled={!skipDate || skipped.includes(skipDate)}
                  onClick={() => {
                    setSkipped([...skipped, skipDate].sort());
                    setSkipDate('');
                  }}
                >
                  {t('skipAdd')}
                </button>
                {skipped.length > 0 && (
                  <ul>
                    {skipped.map((date) => (
                      <li key={date}>
                        {date}{' '}
                        <button type="button" onClick={() => setSkipped(skipped.filter((d) => d !== date))}>
                          {t('skipRemove', { date })}
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>{t('howToAir')}</legend>
          <div className="modes">
            {START_MODES.map((mode) => (
              <label key={mode} className="inline">
                <input type="radio" name="startMode" checked={startMode === mode} onChange={() => setStartMode(mode)} />{' '}
                {startModeLabel(t, mode)} <span className="muted">— {t(`startModeHint_${mode}`)}</span>
              </label>
            ))}
          </div>
          {startMode === 'wait' && (
            <label>
              {t('waitMinutes')}
              <input type="number" min={0} max={1440} value={waitMin} onChange={(e) => setWaitMin(e.target.value)} />
            </label>
          )}
          <div className="form-row">
            <label>
              {t('durationMinutes')}
              <input
                type="number"
                min={1}
                max={1440}
                step="any"
                value={durationMin === '' ? String(suggestedMin) : durationMin}
                onChange={(e) => setDurationMin(e.target.value)}
              />
            </label>
            <label>
              {t('repeatCount')}
              <input
                type="number"
                min={1}
                max={100}
                value={repeatCount}
                onChange={(e) => setRepeatCount(e.target.value)}
              />
            </label>
            <label>
              {t('volume')}
              <input type="number" min={0} max={100} value={volume} onChange={(e) => setVolume(e.target.value)} />
            </label>
            <label>
              {t('prelude')}
              <select value={prelude} onChange={(e) => setPrelude(e.target.value as ScheduleInput['prelude'])}>
                <option value="chime">{t('prelude_chime')}</option>
                <option value="none">{t('prelude_none')}</option>
                {mayEmergency && <option value="siren">{t('prelude_siren')}</option>}
              </select>
            </label>
          </div>
          {length && (
            <p className="muted">
              {t(length.estimated ? 'contentLengthEstimated' : 'contentLength', {
                duration: formatDuration(length.ms),
                count: repeats,
              })}
            </p>
          )}
        </fieldset>

        <ConflictReport check={check} problem={formProblem} />
        {conflicts.length > 0 && (
          <label className="inline accept">
            <input type="checkbox" checked={acceptConflicts} onChange={(e) => setAcceptConflicts(e.target.checked)} />{' '}
            {t('acceptConflicts')}
          </label>
        )}
        {saveError && (
          <div className="error" role="alert">
            <p>{saveError}</p>
            {refused && refused.length > 0 && (
              <ConflictReport
                check={{
                  checking: false,
                  current: true,
                  error: undefined,
                  result: { airtimes: 0, receivers: 0, conflicts: refused },
                }}
                conflictsOnly
              />
            )}
          </div>
        )}
        <button
          type="submit"
          className="primary"
          disabled={!body || saving || (conflicts.length > 0 && !acceptConflicts)}
        >
          {saving ? t('saving') : t('saveSchedule')}
        </button>
      </form>
    </section>
  );
}

function safeInstant(local: string): string | null {
  try {
    return fromVietnamInput(local);
  } catch {
    return null;
  }
}
