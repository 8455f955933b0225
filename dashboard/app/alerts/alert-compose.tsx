import type { Hazard } from '@loa/protocols';
import { type FormEvent, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { fromVietnamInput, toVietnamInput } from '../i18n/time.ts';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import {
  type Alert,
  type AlertStatus,
  announceAlertsChanged,
  type CreateAlertBody,
  fetchAreas,
  fetchReceivers,
  waitsForApproval,
} from './alert-api.ts';
import { HazardName, type Level, RISK_LEVELS, StatusBanner } from './alert-marks.tsx';
import { AudioPreview } from './audio-preview.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { insideShapes, type Shapes } from './geometry.ts';
import { AlertScope } from './scope.ts';
import { TargetMap } from './target-map.tsx';
import { type AlertText, HAZARD_LIST, templateFor } from './templates.ts';
import './alerts.css';

type Texts = { vie: AlertText; eng: AlertText };
const STATUSES: AlertStatus[] = ['Actual', 'Exercise', 'Test'];
const sameTexts = (a: Texts, b: Texts) => JSON.stringify(a) === JSON.stringify(b);

/** What the issue answered, handed to the alert page (the draft exists even when the issue was refused). */
export interface ComposeOutcome {
  issueError?: string;
}

/** The compose page (alerts/new): what, how grave, where, for how long; saved as a draft, then issued. */
export function AlertCompose() {
  const me = useMe();
  const loaded = useLoad(async () => {
    const [areas, receivers] = await Promise.all([fetchAreas(), fetchReceivers()]);
    return new AlertScope(me, areas, receivers);
  }, [me]);
  if (!hasRole(me, 'emergency')) return <Forbidden />;
  return loaded.data ? <ComposeForm scope={loaded.data} /> : <LoadStatus loaded={loaded} />;
}

function ComposeForm({ scope }: { scope: AlertScope }) {
  const { t } = useTranslation('alerts');
  const navigate = useNavigate();
  const [status, setStatus] = useState<AlertStatus>('Actual');
  const [hazard, setHazard] = useState<Hazard>('flash_flood');
  const [level, setLevel] = useState<Level>(3);
  const [texts, setTexts] = useState<Texts>(() => templateFor('flash_flood', 3));
  /** The template last put in the text fields: while they still hold it, a new hazard or level replaces it. */
  const [applied, setApplied] = useState<Texts>(() => templateFor('flash_flood', 3));
  const [english, setEnglish] = useState(false);
  const [areaFilter, setAreaFilter] = useState('');
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [shapes, setShapes] = useState<Shapes>({ polygons: [], circles: [] });
  const [expires, setExpires] = useState(() => toVietnamInput(new Date(Date.now() + 6 * 3600_000)));
  const [repeat, setRepeat] = useState(false);
  const [everyMin, setEveryMin] = useState('60');
  const [windowStart, setWindowStart] = useState('07:00');
  const [windowEnd, setWindowEnd] = useState('20:00');
  const [maxVolume, setMaxVolume] = useState('100');
  const [escalateAfterS, setEscalateAfterS] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<'draft' | 'issue'>();
  const [confirming, setConfirming] = useState(false);

  const template = templateFor(hazard, level);
  const edited = !sameTexts(texts, applied);
  const choose = (nextHazard: Hazard, nextLevel: Level) => {
    setHazard(nextHazard);
    setLevel(nextLevel);
    // Never overwrite what the user typed: an edited text keeps its words until they ask for the template.
    if (!edited) {
      const next = templateFor(nextHazard, nextLevel);
      setTexts(next);
      setApplied(next);
    }
  };
  const applyTemplate = () => {
    setTexts(template);
    setApplied(template);
  };
  const setText = (language: 'vie' | 'eng', field: keyof AlertText, value: string) =>
    setTexts((now) => ({ ...now, [language]: { ...now[language], [field]: value } }));

  const inside = useMemo(
    () =>
      new Set(
        scope.receivers
          .filter((r) => scope.villageIn(r.villageCode, selected) || insideShapes(r.latitude, r.longitude, shapes))
          .map((r) => r.id),
      ),
    [scope, selected, shapes],
  );
  const offlineInside = scope.receivers.filter((r) => inside.has(r.id) && !r.online).length;
  const toggleArea = (code: string) =>
    setSelected((now) => {
      const next = new Set(now);
      if (next.has(code)) next.delete(code);
      else next.add(code);
      return next;
    });
  const filter = areaFilter.trim().toLocaleLowerCase('vi');
  const listedAreas = scope.areas.filter(
    (a) =>
      !filter || a.name.toLocaleLowerCase('vi').includes(filter) || a.code.includes(filter) || selected.has(a.code),
  );

  /** The draft as the API takes it; throws the first problem in words. */
  function body(): CreateAlertBody {
    if (!texts.vie.headline.trim()) throw new Error(t('needHeadline'));
    if (selected.size + shapes.polygons.length + shapes.circles.length === 0) throw new Error(t('needTarget'));
    if (inside.size === 0) throw new Error(t('noReceiverInside'));
    const headline: Record<string, string> = { vie: texts.vie.headline.trim() };
    const instruction: Record<string, string> = {};
    if (texts.vie.instruction.trim()) instruction.vie = texts.vie.instruction.trim();
    if (english && texts.eng.headline.trim()) {
      headline.eng = texts.eng.headline.trim();
      if (texts.eng.instruction.trim()) instruction.eng = texts.eng.instruction.trim();
    }
    const every = Number(everyMin);
    if (repeat && !(Number.isInteger(every) && every >= 1 && every <= 1440)) throw new Error(t('repeatInvalid'));
    const volume = Number(maxVolume);
    if (!(Number.isInteger(volume) && volume >= 0 && volume <= 100)) throw new Error(t('volumeInvalid'));
    const escalate = escalateAfterS.trim() ? Number(escalateAfterS) : undefined;
    if (escalate !== undefined && !(Number.isInteger(escalate) && escalate >= 10 && escalate <= 3600))
      throw new Error(t('escalateInvalid'));
    return {
      status,
      hazard,
      riskLevel: level,
      headline,
      instruction,
      expiresAt: fromVietnamInput(expires),
      ...(selected.size ? { areas: [...selected] } : {}),
      ...(shapes.polygons.length ? { polygons: shapes.polygons.map((ring) => [...ring]) } : {}),
      ...(shapes.circles.length ? { circles: [...shapes.circles] } : {}),
      ...(repeat ? { repeat: { everyS: every * 60, windowStart, windowEnd } } : {}),
      maxVolume: volume,
      ...(escalate !== undefined ? { escalateAfterS: escalate } : {}),
    };
  }

  const saveDraft = async (event?: FormEvent) => {
    event?.preventDefault();
    setError(undefined);
    let draft: CreateAlertBody;
    try {
      draft = body();
    } catch (problem) {
      setError(errorMessage(problem));
      return;
    }
    setBusy('draft');
    try {
      const created = (await must(api.POST('/alerts', { body: draft }))) as Alert;
      announceAlertsChanged();
      navigate(`/alerts/${created.id}`);
    } catch (problem) {
      setError(errorMessage(problem));
      setBusy(undefined);
    }
  };

  const askIssue = () => {
    setError(undefined);
    try {
      body();
      setConfirming(true);
    } catch (problem) {
      setError(errorMessage(problem));
    }
  };

  /** Saves the draft, then issues it unless a second person must approve it first. */
  const issue = async () => {
    setBusy('issue');
    setError(undefined);
    let created: Alert;
    try {
      created = (await must(api.POST('/alerts', { body: body() }))) as Alert;
    } catch (problem) {
      setError(errorMessage(problem));
      setBusy(undefined);
      return;
    }
    const outcome: ComposeOutcome = {};
    if (!waitsForApproval(created))
      try {
        await must(api.POST('/alerts/{id}/issue', { params: { path: { id: created.id } } }));
      } catch (problem) {
        outcome.issueError = errorMessage(problem);
      }
    announceAlertsChanged();
    navigate(`/alerts/${created.id}`, { state: outcome });
  };

  return (
    <section className="alert-compose">
      <h1>{t('composeTitle')}</h1>
      <StatusBanner status={status} />
      <form onSubmit={(e) => void saveDraft(e)} noValidate>
        <fieldset className="status-choice">
          <legend>{t('statusLegend')}</legend>
          {STATUSES.map((s) => (
            <label key={s} className={`status-option status-${s.toLowerCase()}`}>
              <input type="radio" name="status" value={s} checked={status === s} onChange={() => setStatus(s)} />
              {t(`statusChoice${s}`)}
            </label>
          ))}
        </fieldset>

        <fieldset>
          <legend>{t('hazardLegend')}</legend>
          <label>
            {t('hazard')}
            <select value={hazard} onChange={(e) => choose(e.target.value as Hazard, level)}>
              {HAZARD_LIST.map((h) => (
                <option key={h} value={h}>
                  {t(`hazard_${h}`)}
                </option>
              ))}
            </select>
          </label>
          <fieldset className="risk-choice">
            <legend>{t('riskLegend')}</legend>
            {RISK_LEVELS.map((l) => (
              <label key={l} className={`risk-option risk-${l}`}>
                <input
                  type="radio"
                  name="riskLevel"
                  value={l}
                  checked={level === l}
                  onChange={() => choose(hazard, l)}
                />
                {t('riskFull', { level: l, name: t(`riskName${l}`) })}
              </label>
            ))}
          </fieldset>
        </fieldset>

        <fieldset>
          <legend>{t('messageLegend')}</legend>
          <p className="muted">
            {t('templateNote', { hazard: t(`hazard_${hazard}`), level })}{' '}
            {edited && (
              <button type="button" onClick={applyTemplate}>
                {t('templateApply')}
              </button>
            )}
          </p>
          <label>
            {t('headlineVie')}
            <input
              value={texts.vie.headline}
              onChange={(e) => setText('vie', 'headline', e.target.value)}
              maxLength={300}
              required
            />
          </label>
          <label>
            {t('instructionVie')}
            <textarea
              rows={4}
              value={texts.vie.instruction}
              onChange={(e) => setText('vie', 'instruction', e.target.value)}
              maxLength={2000}
            />
          </label>
          <label className="inline">
            <input type="checkbox" checked={english} onChange={(e) => setEnglish(e.target.checked)} />
            {t('includeEnglish')}
          </label>
          {english && (
            <>
              <label>
                {t('headlineEng')}
                <input
                  value={texts.eng.headline}
                  onChange={(e) => setText('eng', 'headline', e.target.value)}
                  maxLength={300}
                />
              </label>
              <label>
                {t('instructionEng')}
                <textarea
                  rows={3}
                  value={texts.eng.instruction}
                  onChange={(e) => setText('eng', 'instruction', e.target.value)}
                  maxLength={2000}
                />
              </label>
            </>
          )}
          <p className="muted">{t('otherLanguagesNote')}</p>
        </fieldset>

        <fieldset>
          <legend>{t('targetLegend')}</legend>
          <p className="muted">{t('targetHint')}</p>
          <div className="target-grid">
            <div className="area-picker">
              <label>
                {t('areaFilter')}
                <input type="search" value={areaFilter} onChange={(e) => setAreaFilter(e.target.value)} />
              </label>
              <ul className="area-list" aria-label={t('areaList')}>
                {listedAreas.map((a) => (
                  <li key={a.code} style={{ paddingLeft: `${scope.depth(a) * 1.1}rem` }}>
                    <label className="inline">
                      <input type="checkbox" checked={selected.has(a.code)} onChange={() => toggleArea(a.code)} />
                      {a.name}{' '}
                      <span className="muted">
                        ({t(`level_${a.level}`)} {a.code})
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            </div>
            <TargetMap scope={scope} selectedAreas={selected} shapes={shapes} onShapes={setShapes} inside={inside} />
          </div>
          <p className="target-summary" aria-live="polite">
            {t('insideSummary', { count: inside.size, offline: offlineInside })}
          </p>
        </fieldset>

        <fieldset>
          <legend>{t('timingLegend')}</legend>
          <label>
            {t('expiresAt')}
            <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} required />
          </label>
          <label className="inline">
            <input type="checkbox" checked={repeat} onChange={(e) => setRepeat(e.target.checked)} />
            {t('repeat')}
          </label>
          {repeat && (
            <div className="repeat-fields">
              <label>
                {t('repeatEvery')}
                <input
                  type="number"
                  min={1}
                  max={1440}
                  value={everyMin}
                  onChange={(e) => setEveryMin(e.target.value)}
                />
              </label>
              <label>
                {t('repeatFrom')}
                <input type="time" value={windowStart} onChange={(e) => setWindowStart(e.target.value)} />
              </label>
              <label>
                {t('repeatTo')}
                <input type="time" value={windowEnd} onChange={(e) => setWindowEnd(e.target.value)} />
              </label>
            </div>
          )}
          <details>
            <summary>{t('advanced')}</summary>
            <label>
              {t('maxVolume')}
              <input type="number" min={0} max={100} value={maxVolume} onChange={(e) => setMaxVolume(e.target.value)} />
            </label>
            <label>
              {t('escalateAfter')}
              <input
                type="number"
                min={10}
                max={3600}
                placeholder="60"
                value={escalateAfterS}
                onChange={(e) => setEscalateAfterS(e.target.value)}
              />
            </label>
          </details>
        </fieldset>

        <AudioPreview
          status={status}
          level={level}
          texts={[{ language: 'vie', ...texts.vie }, ...(english ? [{ language: 'eng' as const, ...texts.eng }] : [])]}
        />

        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <StatusBanner status={status} />
        <div className="form-actions">
          <button type="submit" disabled={busy !== undefined}>
            {busy === 'draft' ? t('saving') : t('saveDraft')}
          </button>
          <button type="button" className="danger" disabled={busy !== undefined} onClick={askIssue}>
            {t('issueEllipsis')}
          </button>
        </div>
      </form>
      {confirming && (
        <ConfirmDialog
          title={status === 'Actual' ? t('issueConfirmTitleActual') : t('issueConfirmTitleDrill')}
          confirmLabel={t('issueConfirm')}
          cancelLabel={t('issueBack')}
          busyLabel={t('issuing')}
          danger={status === 'Actual'}
          busy={busy === 'issue'}
          error={error}
          onConfirm={() => void issue()}
          onClose={() => setConfirming(false)}
        >
          <StatusBanner status={status} />
          <p>
            <strong>{texts.vie.headline}</strong>
          </p>
          <p>
            <HazardName hazard={hazard} /> · {t('riskFull', { level, name: t(`riskName${level}`) })}
          </p>
          <p>{t('issueConfirmBody', { count: inside.size })}</p>
          <p className="muted">{t('issueApprovalNote')}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
