import type { Hazard } from '@loa/protocols';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import { fromVietnamInput, toVietnamInput } from '../i18n/time.ts';
import { type Alert, announceAlertsChanged, type UpdateAlertBody } from './alert-api.ts';
import { asLevel, type Level, RISK_LEVELS } from './alert-marks.tsx';
import { HAZARD_LIST } from './templates.ts';

/**
 * An Update (a correction) of the alert on air: what changes — words, hazard, level,
 * expiry. It becomes a new draft revision (approved where the rule asks, then issued),
 * which replaces the alert on the receivers in flight; status and targets stay.
 */
export function UpdateForm({ alert, onClose }: { alert: Alert; onClose(): void }) {
  const { t } = useTranslation('alerts');
  const navigate = useNavigate();
  const [hazard, setHazard] = useState(alert.hazard as Hazard);
  const [level, setLevel] = useState<Level>(asLevel(alert.riskLevel));
  const [headline, setHeadline] = useState(alert.headline.vie ?? '');
  const [instruction, setInstruction] = useState(alert.instruction.vie ?? '');
  const [headlineEng, setHeadlineEng] = useState(alert.headline.eng ?? '');
  const [instructionEng, setInstructionEng] = useState(alert.instruction.eng ?? '');
  const [expires, setExpires] = useState(toVietnamInput(alert.expiresAt));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const hadEnglish = Boolean(alert.headline.eng);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (!headline.trim()) {
      setError(t('needHeadline'));
      return;
    }
    const change: UpdateAlertBody = {};
    if (hazard !== alert.hazard) change.hazard = hazard;
    if (level !== alert.riskLevel) change.riskLevel = level;
    const newHeadline: Record<string, string> = { vie: headline.trim() };
    const newInstruction: Record<string, string> = {};
    if (instruction.trim()) newInstruction.vie = instruction.trim();
    if (headlineEng.trim()) newHeadline.eng = headlineEng.trim();
    if (headlineEng.trim() && instructionEng.trim()) newInstruction.eng = instructionEng.trim();
    if (JSON.stringify(newHeadline) !== JSON.stringify(alert.headline)) change.headline = newHeadline;
    if (JSON.stringify(newInstruction) !== JSON.stringify(alert.instruction)) change.instruction = newInstruction;
    try {
      // The field holds minutes: only a changed minute is a change.
      if (expires !== toVietnamInput(alert.expiresAt)) change.expiresAt = fromVietnamInput(expires);
    } catch (problem) {
      setError(errorMessage(problem));
      return;
    }
    if (Object.keys(change).length === 0) {
      setError(t('updateNothing'));
      return;
    }
    setBusy(true);
    try {
      const draft = (await must(
        api.POST('/alerts/{id}/update', { params: { path: { id: alert.id } }, body: change }),
      )) as Alert;
      announceAlertsChanged();
      onClose();
      navigate(`/alerts/${draft.id}`);
    } catch (problem) {
      setError(errorMessage(problem));
      setBusy(false);
    }
  };

  return (
    <form className="update-form" onSubmit={(e) => void submit(e)} noValidate>
      <h2>{t('updateTitle')}</h2>
      <p className="muted">{t('updateHint')}</p>
      <label>
        {t('hazard')}
        <select value={hazard} onChange={(e) => setHazard(e.target.value as Hazard)}>
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
            <input type="radio" name="updateRiskLevel" checked={level === l} onChange={() => setLevel(l)} />
            {t('riskFull', { level: l, name: t(`riskName${l}`) })}
          </label>
        ))}
      </fieldset>
      <label>
        {t('headlineVie')}
        <input value={headline} onChange={(e) => setHeadline(e.target.value)} maxLength={300} />
      </label>
      <label>
        {t('instructionVie')}
        <textarea rows={3} value={instruction} onChange={(e) => setInstruction(e.target.value)} maxLength={2000} />
      </label>
      {hadEnglish && (
        <>
          <label>
            {t('headlineEng')}
            <input value={headlineEng} onChange={(e) => setHeadlineEng(e.target.value)} maxLength={300} />
          </label>
          <label>
            {t('instructionEng')}
            <textarea
              rows={3}
              value={instructionEng}
              onChange={(e) => setInstructionEng(e.target.value)}
              maxLength={2000}
            />
          </label>
        </>
      )}
      <label>
        {t('expiresAt')}
        <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('saving') : t('updateSave')}
        </button>
        <button type="button" onClick={onClose} disabled={busy}>
          {t('updateClose')}
        </button>
      </div>
    </form>
  );
}
