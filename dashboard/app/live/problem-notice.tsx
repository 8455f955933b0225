import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import type { Conflict, SpeakerProblem } from './live-speaker.ts';
import { sessionStateText } from './session-words.ts';

function useProblemText() {
  const { t } = useTranslation('live');
  return (problem: SpeakerProblem): string => {
    switch (problem.kind) {
      case 'microphone':
        return problem.problem === 'failed'
          ? t('micFailed', { detail: problem.detail })
          : t(`mic_${problem.problem}` as const);
      case 'refused':
        switch (problem.status) {
          case 403:
            return t('refused403', { detail: problem.detail });
          case 404:
            return t('refused404', { detail: problem.detail });
          case 409:
            return t('refused409', { detail: problem.detail });
          case 422:
            return t('refused422', { detail: problem.detail });
          case 503:
            return t('refused503', { detail: problem.detail });
          default:
            return t('refusedOther', { status: problem.status, detail: problem.detail });
        }
      case 'socket_refused':
        return problem.detail ? t('socketRefusedBecause', { detail: problem.detail }) : t('socketRefused');
      case 'socket_lost':
        return t('socketLost', { code: problem.code });
      case 'controller_error':
        return t('controllerError', { reason: problem.reason });
      case 'microphone_lost':
        return t('microphoneLost');
      case 'failed':
        return t('failed', { detail: problem.detail });
    }
  };
}

/** Another session holds the loudspeakers: its name and state, and a way to stop it (the controller decides who may). */
function ConflictDetail({ conflict, onStopped }: { conflict: Conflict; onStopped(): void }) {
  const { t } = useTranslation('live');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const stop = async () => {
    setBusy(true);
    try {
      await must(api.POST('/live/sessions/{id}/stop', { params: { path: { id: conflict.id } }, body: {} }));
      setOutcome({ ok: true, text: t('conflictStopped') });
      onStopped();
    } catch (error) {
      setOutcome({ ok: false, text: t('conflictStopFailed', { detail: errorMessage(error) }) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="conflict">
      <p>
        {t('conflictDetail', {
          title: conflict.title,
          state: sessionStateText(t, conflict.state as Parameters<typeof sessionStateText>[1]),
        })}
      </p>
      <p className="muted">{t('conflictAdvice')}</p>
      {!outcome?.ok && (
        <button type="button" className="danger" disabled={busy} onClick={() => void stop()}>
          {busy ? t('conflictStopping') : t('conflictStop')}
        </button>
      )}
      {outcome && <p className={outcome.ok ? 'ok' : 'error'}>{outcome.text}</p>}
    </div>
  );
}

/** What went wrong, in words, with the conflicting session when there is one. */
export function ProblemNotice({ problem, onConflictStopped }: { problem: SpeakerProblem; onConflictStopped(): void }) {
  const { t } = useTranslation('live');
  const text = useProblemText();
  return (
    <div className="live-problem" role="alert">
      {problem.kind === 'refused' && problem.conflict ? (
        <>
          <p className="error">{t('refused409Short')}</p>
          <p className="muted">
            <small>{problem.detail}</small>
          </p>
        </>
      ) : (
        <p className="error">{text(problem)}</p>
      )}
      {problem.kind === 'refused' && problem.conflict && (
        <ConflictDetail conflict={problem.conflict} onStopped={onConflictStopped} />
      )}
    </div>
  );
}
