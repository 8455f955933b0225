import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AssetProgress } from './asset-progress.tsx';
import { formatDuration } from './labels.ts';
import type { AssetProcess } from './use-asset-process.ts';

/** What MediaRecorder can make that the controller takes as a recording (WebM or Ogg with Opus). */
function recordingType(): string | undefined {
  return ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].find((type) =>
    MediaRecorder.isTypeSupported(type),
  );
}

/** Lets go of the microphone (the browser's recording light goes off). */
function release(stream: { current: MediaStream | null }): void {
  for (const track of stream.current?.getTracks() ?? []) track.stop();
  stream.current = null;
}

/**
 * Records from the microphone (for languages no speech engine speaks): record, stop,
 * listen to it, then use it (POST /recordings) or record again.
 */
export function Recorder({ process, language }: { process: AssetProcess; language: string }) {
  const { t } = useTranslation('schedule');
  const [state, setState] = useState<'idle' | 'recording' | 'recorded'>('idle');
  const [error, setError] = useState<string>();
  const [elapsed, setElapsed] = useState(0);
  const [take, setTake] = useState<{ blob: Blob; url: string } | null>(null);
  const recorder = useRef<MediaRecorder | null>(null);
  const stream = useRef<MediaStream | null>(null);

  useEffect(
    () => () => {
      if (recorder.current?.state === 'recording') recorder.current.stop();
      release(stream);
    },
    [],
  );
  useEffect(() => () => (take ? URL.revokeObjectURL(take.url) : undefined), [take]);
  useEffect(() => {
    if (state !== 'recording') return;
    const started = Date.now();
    const timer = setInterval(() => setElapsed(Date.now() - started), 250);
    return () => clearInterval(timer);
  }, [state]);

  const start = async () => {
    setError(undefined);
    const type = typeof MediaRecorder === 'undefined' ? undefined : recordingType();
    if (!type || !navigator.mediaDevices?.getUserMedia) {
      setError(t('recordUnsupported'));
      return;
    }
    try {
      stream.current = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (failure) {
      setError(t('recordNoMicrophone', { detail: failure instanceof Error ? failure.message : String(failure) }));
      return;
    }
    const chunks: Blob[] = [];
    const media = new MediaRecorder(stream.current, { mimeType: type });
    media.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    media.onstop = () => {
      release(stream);
      const blob = new Blob(chunks, { type: type.split(';')[0] });
      setTake({ blob, url: URL.createObjectURL(blob) });
      setState('recorded');
    };
    recorder.current = media;
    process.reset();
    setTake(null);
    setElapsed(0);
    media.start(250);
    setState('recording');
  };
  const stop = () => recorder.current?.stop();
  const use = () => {
    if (!take) return;
    const extension = take.blob.type.includes('ogg') ? 'ogg' : 'webm';
    process.send('/recordings', take.blob, `recording-${language}.${extension}`);
  };

  return (
    <div className="recorder">
      {state === 'recording' ? (
        <p>
          <span className="recording-dot" aria-hidden="true" /> {t('recordingNow', { time: formatDuration(elapsed) })}{' '}
          <button type="button" className="danger" onClick={stop}>
            {t('recordStop')}
          </button>
        </p>
      ) : (
        <button type="button" onClick={() => void start()} disabled={process.phase === 'uploading'}>
          {state === 'recorded' ? t('recordAgain') : t('recordStart')}
        </button>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {state === 'recorded' && take && process.phase === 'idle' && (
        <div className="take">
          {/* biome-ignore lint/a11y/useMediaCaption: the official's own voice, just recorded; no caption track exists */}
          <audio controls src={take.url} aria-label={t('recordedTake')} />
          <button type="button" className="primary" onClick={use}>
            {t('recordUse')}
          </button>
        </div>
      )}
      <AssetProgress process={process} label={t('recordedAudio')} />
    </div>
  );
}
