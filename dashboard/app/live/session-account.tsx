import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import type { LiveSession } from './live-speaker.ts';
import { clock, endReasonText, onAirSeconds, sessionStateText } from './session-words.ts';

/** 20 ms Opus frames: the controller's count of them is the speech that went out. */
const FRAME_S = 0.02;

/** A session's final account, as the controller recorded it. */
export function SessionAccount({ session, areaNames }: { session: LiveSession; areaNames: Map<string, string> }) {
  const { t } = useTranslation('live');
  const language = useLanguage();
  const seconds = onAirSeconds(session);
  return (
    <section className="session-account" aria-labelledby="live-account-heading">
      <h2 id="live-account-heading">{t('accountHeading')}</h2>
      <dl className="facts">
        <dt>{t('accountTitle')}</dt>
        <dd>{session.title}</dd>
        <dt>{t('accountAreas')}</dt>
        <dd>{session.areaIds.map((id) => areaNames.get(id) ?? id).join(', ') || '—'}</dd>
        <dt>{t('accountState')}</dt>
        <dd>
          {sessionStateText(t, session.state)} — {endReasonText(t, session.endReason)}
        </dd>
        <dt>{t('accountOpened')}</dt>
        <dd>{formatDateTime(session.openedAt, language)}</dd>
        <dt>{t('accountOnAir')}</dt>
        <dd>{session.onAirAt ? formatDateTime(session.onAirAt, language) : t('neverOnAir')}</dd>
        <dt>{t('accountEnded')}</dt>
        <dd>{formatDateTime(session.endedAt, language)}</dd>
        <dt>{t('accountDuration')}</dt>
        <dd>{seconds === null ? '—' : clock(seconds)}</dd>
        <dt>{t('accountSpeech')}</dt>
        <dd>
          {t('accountSpeechValue', {
            seconds: (session.framesSent * FRAME_S).toLocaleString(language === 'vi' ? 'vi-VN' : 'en-GB', {
              maximumFractionDigits: 1,
            }),
            packets: session.packetsSent,
          })}
        </dd>
        <dt>{t('accountPrelude')}</dt>
        <dd>{session.prelude === 'chime' ? t('preludeChime') : t('preludeNone')}</dd>
      </dl>
    </section>
  );
}
