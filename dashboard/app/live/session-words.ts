import type { TFunction } from 'i18next';
import type { LiveSession } from './live-speaker.ts';

/** The controller's end reasons (controller/README.md, "The end") in the user's words. */
export function endReasonText(t: TFunction<'live'>, reason: string | null): string {
  if (!reason) return t('reasonNone');
  if (reason === 'speaker_closed') return t('reasonSpeakerClosed');
  if (reason === 'stopped') return t('reasonStopped');
  if (reason.startsWith('stopped: ')) return t('reasonStoppedBecause', { reason: reason.slice('stopped: '.length) });
  if (reason === 'idle') return t('reasonIdle');
  if (reason === 'controller_shutdown') return t('reasonShutdown');
  if (reason === 'controller_lost') return t('reasonControllerLost');
  return reason;
}

export function sessionStateText(t: TFunction<'live'>, state: LiveSession['state']): string {
  return t(`state_${state}`);
}

/** Seconds on air: from the on-air moment to the end (or now, while it lasts). */
export function onAirSeconds(session: Pick<LiveSession, 'onAirAt' | 'endedAt'>, now = Date.now()): number | null {
  if (!session.onAirAt) return null;
  const from = Date.parse(session.onAirAt);
  const to = session.endedAt ? Date.parse(session.endedAt) : now;
  return Math.max(0, Math.round((to - from) / 1000));
}

/** m:ss (or h:mm:ss) for a duration in seconds. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
