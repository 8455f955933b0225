import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import { actionLabel } from './action-history.tsx';
import { type ActionBody, rememberAction } from './action-labels.ts';
import { type Receiver, telemetryOf } from './receiver-view.ts';

const KINDS: Record<ActionBody['action'], string> = {
  volume: 'device.volume',
  test: 'device.test',
  reload: 'device.reload',
  logs: 'device.logs',
  config: 'device.config',
  reboot: 'device.reboot',
};
const LOG_LINES = 200;

export interface ReceiverActionsProps {
  receiver: Receiver;
  villageName: string;
  /** Called with the command id once the controller has sent a command. */
  onSent: (commandId: string, body: ActionBody) => void;
}

/**
 * Remote actions on one receiver. Those that sound in the village or cut it off for a
 * minute (audible test, reboot) ask first, in the page, not in a browser pop-up.
 */
export function ReceiverActions({ receiver, villageName, onSent }: ReceiverActionsProps) {
  const { t } = useTranslation('fleet');
  const reported = telemetryOf(receiver).volume;
  // What the technician set on the slider wins over later reports; until then, the receiver's own.
  const [chosen, setChosen] = useState<number>();
  const volume = chosen ?? reported ?? 80;
  const [confirm, setConfirm] = useState<'audible' | 'reboot' | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();

  async function send(body: ActionBody) {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      const sent = await must(api.POST('/receivers/{id}/actions', { params: { path: { id: receiver.id } }, body }));
      rememberAction(sent.commandId, body);
      setMessage(t('sent', { action: actionLabel(t, { commandId: sent.commandId, kind: KINDS[body.action] }) }));
      setConfirm(null);
      if (body.action === 'reboot') setReason('');
      onSent(sent.commandId, body);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="receiver-section receiver-actions" aria-labelledby="actions-heading">
      <h2 id="actions-heading">{t('sectionActions')}</h2>
      {!receiver.online && (
        <p className="warn-text" role="note">
          {t('actionsOffline')}
        </p>
      )}
      <form
        className="action-row"
        onSubmit={(e) => {
          e.preventDefault();
          void send({ action: 'volume', volume });
        }}
      >
        <div className="volume-label">
          <label htmlFor={`${receiver.id}-volume`}>{t('volumeLabel')}</label>
          <span className="volume-control">
            <input
              id={`${receiver.id}-volume`}
              type="range"
              min={0}
              max={100}
              step={1}
              value={volume}
              onChange={(e) => setChosen(Number(e.target.value))}
            />
            <output htmlFor={`${receiver.id}-volume`}>{volume}</output>
          </span>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {t('volumeApply')}
        </button>
      </form>

      <div className="action-row">
        <button type="button" disabled={busy} onClick={() => void send({ action: 'test', mode: 'silent' })}>
          {t('silentTest')}
        </button>
        <p className="muted">{t('silentTestHint')}</p>
      </div>

      <div className="action-row">
        <button
          type="button"
          disabled={busy}
          onClick={() => setConfirm('audible')}
          aria-expanded={confirm === 'audible'}
        >
          {t('audibleTest')}
        </button>
        <p className="muted">{t('audibleTestHint')}</p>
      </div>
      {confirm === 'audible' && (
        <fieldset className="confirm">
          <legend>{t('audibleTest')}</legend>
          <p>{t('audibleConfirm', { name: receiver.name, village: villageName })}</p>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void send({ action: 'test', mode: 'audible' })}
          >
            {t('audibleConfirmYes')}
          </button>{' '}
          <button type="button" onClick={() => setConfirm(null)}>
            {t('cancel')}
          </button>
        </fieldset>
      )}

      <div className="action-row">
        <button type="button" disabled={busy} onClick={() => setConfirm('reboot')} aria-expanded={confirm === 'reboot'}>
          {t('reboot')}
        </button>
        <p className="muted">{t('rebootHint')}</p>
      </div>
      {confirm === 'reboot' && (
        <form
          className="confirm"
          aria-label={t('reboot')}
          onSubmit={(e) => {
            e.preventDefault();
            void send({ action: 'reboot', ...(reason.trim() ? { reason: reason.trim() } : {}) });
          }}
        >
          <p>{t('rebootConfirm', { name: receiver.name })}</p>
          <label>
            {t('rebootReason')}
            <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button type="submit" className="danger" disabled={busy}>
            {t('rebootConfirmYes')}
          </button>{' '}
          <button type="button" onClick={() => setConfirm(null)}>
            {t('cancel')}
          </button>
        </form>
      )}

      <div className="action-row">
        <button type="button" disabled={busy} onClick={() => void send({ action: 'logs', maxLines: LOG_LINES })}>
          {t('requestLogs')}
        </button>
      </div>

      <div aria-live="polite">
        {busy && <p>{t('sending')}</p>}
        {message && <p className="ok">{message}</p>}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
