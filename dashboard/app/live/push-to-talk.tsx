import { type KeyboardEvent, type PointerEvent, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Phase } from './live-speaker.ts';

/** Hold (press and keep pressed while speaking) or toggle (one click starts, the next stops). */
export type TalkMode = 'hold' | 'toggle';

const TALKING: readonly Phase[] = ['opening', 'connecting', 'waiting', 'on_air'];

/**
 * The big push-to-talk button. Hold mode: mouse, finger or the Space key held down, with
 * the pointer captured so sliding off the button does not drop the speech, and the
 * window losing focus counting as a release (the key-up would never come). Toggle mode,
 * for those who cannot hold: an ordinary click (or Enter/Space) starts and stops.
 */
export function PushToTalk({
  mode,
  phase,
  ready,
  onStart,
  onStop,
}: {
  mode: TalkMode;
  phase: Phase;
  /** Targets chosen: a press can open a session. */
  ready: boolean;
  onStart(): void;
  onStop(): void;
}) {
  const { t } = useTranslation('live');
  const holding = useRef(false);
  const talking = TALKING.includes(phase);
  const ending = phase === 'ending';

  const begin = () => {
    if (holding.current) return;
    holding.current = true;
    onStart();
  };
  const end = () => {
    if (!holding.current) return;
    holding.current = false;
    onStop();
  };
  const latestEnd = useRef(end);
  latestEnd.current = end;
  useEffect(() => {
    const lost = () => latestEnd.current();
    window.addEventListener('blur', lost);
    return () => window.removeEventListener('blur', lost);
  }, []);
  // The session ended by itself (stopped elsewhere, the link lost): the next press starts afresh.
  useEffect(() => {
    if (!TALKING.includes(phase)) holding.current = false;
  }, [phase]);

  const label = ending
    ? t('pttEnding')
    : mode === 'hold'
      ? talking
        ? t('pttRelease')
        : t('pttHold')
      : talking
        ? t('pttClickStop')
        : t('pttClickStart');
  const hold =
    mode === 'hold'
      ? {
          onPointerDown: (event: PointerEvent<HTMLButtonElement>) => {
            if (event.pointerType === 'mouse' && event.button !== 0) return;
            event.currentTarget.setPointerCapture(event.pointerId);
            begin();
          },
          onPointerUp: end,
          onPointerCancel: end,
          onLostPointerCapture: end,
          onKeyDown: (event: KeyboardEvent) => {
            if (event.key !== ' ') return;
            // No page scroll, and no click when the key comes up.
            event.preventDefault();
            if (!event.repeat) begin();
          },
          onKeyUp: (event: KeyboardEvent) => {
            if (event.key !== ' ') return;
            event.preventDefault();
            end();
          },
          onBlur: end,
        }
      : {
          onClick: () => (talking ? onStop() : onStart()),
        };
  return (
    <button
      type="button"
      className={`push-to-talk phase-${phase}${talking ? ' talking' : ''}`}
      aria-pressed={talking}
      aria-describedby="live-ptt-hint"
      disabled={ending || (!talking && !ready)}
      // A long press on a phone would open the context menu and cancel the hold.
      onContextMenu={(event) => event.preventDefault()}
      {...hold}
    >
      <MicrophoneIcon />
      <span className="ptt-label">{label}</span>
    </button>
  );
}

/** Drawn, not an emoji: old laptops often have no emoji font. */
function MicrophoneIcon() {
  return (
    <svg className="ptt-icon" viewBox="0 0 24 24" width="40" height="40" aria-hidden="true" focusable="false">
      <rect x="8.5" y="2" width="7" height="13" rx="3.5" fill="currentColor" />
      <path
        d="M5 11a7 7 0 0 0 14 0M12 18v4M8 22h8"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
      />
    </svg>
  );
}
