import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SpeakerState } from './live-speaker.ts';
import { clock, endReasonText } from './session-words.ts';

/** A clock that ticks while `running` (for the countdown and the time on air). */
function useNow(running: boolean, everyMs = 250): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [running, everyMs]);
  return now;
}

/**
 * Where the speech is: connecting, waiting for on-air (the chime's countdown), ON AIR
 * (unmistakable: red, large, worded), ending, ended. The words are a polite live region;
 * the ticking clocks sit outside it so a screen reader is not read every second.
 */
export function LiveStatus({ state }: { state: SpeakerState }) {
  const { t } = useTranslation('live');
  const { phase, session } = state;
  const now = useNow(phase === 'waiting' || phase === 'connecting' || phase === 'on_air');
  const chime = session?.prelude === 'chime';
  let words: string;
  switch (phase) {
    case 'idle':
      words = t('statusIdle');
      break;
    case 'opening':
      words = state.mic === 'opening' ? t('statusMicOpening') : t('statusOpening');
      break;
    case 'connecting':
      words = t('statusConnecting');
      break;
    case 'waiting':
      words = chime ? t('statusWaitingChime') : t('statusWaiting');
      break;
    case 'on_air':
      words = t('statusOnAir');
      break;
    case 'ending':
      words = t('statusEnding');
      break;
    case 'ended':
      words = t('statusEnded', { reason: endReasonText(t, session?.endReason ?? null) });
      break;
  }
  const countdown =
    (phase === 'waiting' || phase === 'connecting') && state.onAirAtLocal !== undefined
      ? Math.max(0, Math.ceil((state.onAirAtLocal - now) / 1000))
      : undefined;
  const onAirFor = phase === 'on_air' && state.onAirSince !== undefined ? (now - state.onAirSince) / 1000 : undefined;
  return (
    <div className={`live-status phase-${phase}`}>
      <p role="status" className="live-status-words">
        {phase === 'on_air' && (
          <span className="on-air-dot" aria-hidden="true">
            ●
          </span>
        )}
        {words}
      </p>
      {countdown !== undefined && (
        <p className="live-countdown" role="timer">
          {t('countdown', { seconds: countdown })}
        </p>
      )}
      {onAirFor !== undefined && (
        <p className="live-elapsed" role="timer">
          {t('onAirFor', { time: clock(onAirFor) })}
        </p>
      )}
      {phase === 'on_air' && <p className="live-hint">{t('onAirHint')}</p>}
      {state.stats && (phase === 'on_air' || phase === 'waiting' || phase === 'ending') && (
        <p className="live-stats muted">
          {t('stats', { seconds: state.stats.receivedSeconds.toFixed(1), packets: state.stats.packetsSent })}
          {state.stats.publishFailures > 0 && ` — ${t('statsFailures', { count: state.stats.publishFailures })}`}
        </p>
      )}
      {state.slowLink && (
        <p className="warn-text" role="alert">
          {t('slowLink')}
        </p>
      )}
    </div>
  );
}
