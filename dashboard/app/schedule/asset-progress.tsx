import { useTranslation } from 'react-i18next';
import { formatDuration } from './labels.ts';
import type { AssetProcess } from './use-asset-process.ts';

const REFUSALS = [
  'empty',
  'not-audio',
  'disguised',
  'needs-ffmpeg',
  'corrupt',
  'silent',
  'zero-duration',
  'too-long',
  'too-large',
  'no-speech-engine',
  'network',
] as const;

/** Where an audio file is on its way: upload bar, processing bar, the finished audio to listen to, or why it was refused. */
export function AssetProgress({ process, label }: { process: AssetProcess; label: string }) {
  const { t } = useTranslation('schedule');
  const percent = Math.round(process.progress * 100);
  switch (process.phase) {
    case 'idle':
      return null;
    case 'uploading':
      return (
        <div className="asset-progress">
          <label>
            {t('uploading', { percent })}
            <progress max={1} value={process.progress} />
          </label>
        </div>
      );
    case 'processing':
      return (
        <div className="asset-progress">
          <label>
            {process.stage === 'measuring'
              ? t('processingMeasuring', { percent })
              : process.stage === 'encoding'
                ? t('processingEncoding', { percent })
                : t('processingQueued', { percent })}
            <progress max={1} value={process.progress} />
          </label>
        </div>
      );
    case 'ready':
      return process.asset ? (
        <div className="asset-ready">
          <p className="ok" role="status">
            {t('audioReady', { duration: formatDuration(process.asset.durationMs) })}
          </p>
          {/* biome-ignore lint/a11y/useMediaCaption: announcements are speech the official just made or typed; there is no caption track */}
          <audio controls preload="none" src={`/assets/${process.asset.sha256}`} aria-label={label} />
        </div>
      ) : null;
    case 'refused':
    case 'error': {
      const known = REFUSALS.find((r) => r === process.reason);
      return (
        <p className="error" role="alert">
          {known ? t(`refusal_${known}`) : t('audioFailed')} {process.detail}
        </p>
      );
    }
  }
}
