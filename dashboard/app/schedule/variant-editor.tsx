import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { ApiError, errorMessage, must } from '../api/problem.ts';
import type { AudioJob, LanguageCode } from './api-types.ts';
import { AssetProgress } from './asset-progress.tsx';
import { languageName } from './labels.ts';
import { Recorder } from './recorder.tsx';
import { useAssetProcess } from './use-asset-process.ts';

export type VariantMode = 'none' | 'upload' | 'record' | 'text';
/** What a language's variant will be saved as; `busy` while audio is still on its way. */
export type VariantValue =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'audio'; sha256: string | null; busy: boolean };

const ACCEPT = 'audio/*,video/webm,.wav,.mp3,.ogg,.opus,.m4a,.aac,.flac,.webm';

/** One language of an announcement: upload a file, record it here, or type Vietnamese text for speech. */
export function VariantEditor({
  language,
  position,
  onChange,
}: {
  language: LanguageCode;
  position: number;
  onChange: (language: LanguageCode, value: VariantValue) => void;
}) {
  const { t } = useTranslation('schedule');
  const id = useId();
  const name = languageName(t, language);
  const [mode, setMode] = useState<VariantMode>(language === 'vie' ? 'text' : 'upload');
  const [text, setText] = useState('');
  const file = useAssetProcess();
  const recording = useAssetProcess();
  const preview = useAssetProcess();
  const [reading, setReading] = useState<string>();
  const [previewedText, setPreviewedText] = useState<string>();

  const audio = mode === 'upload' ? file : recording;
  const value: VariantValue =
    mode === 'none'
      ? { kind: 'none' }
      : mode === 'text'
        ? text.trim()
          ? { kind: 'text', text: text.trim() }
          : { kind: 'none' }
        : audio.phase === 'idle' || audio.phase === 'refused' || audio.phase === 'error'
          ? { kind: 'none' }
          : { kind: 'audio', sha256: audio.asset?.sha256 ?? null, busy: audio.phase !== 'ready' };
  const key = JSON.stringify(value);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the value is compared by its JSON
  useEffect(() => onChange(language, value), [key, language, onChange]);

  const listen = async () => {
    const words = text.trim();
    if (!words) return;
    preview.reset();
    setReading(undefined);
    setPreviewedText(words);
    try {
      const [answer, read] = await Promise.all([
        must(api.POST('/speech/preview', { body: { language, text: words } })),
        must(api.POST('/speech/reading', { body: { language, text: words } })).catch(() => null),
      ]);
      if (read) setReading(read.reading);
      const made = answer as { sha256?: string; durationMs?: number; job?: AudioJob };
      if (made.sha256 && made.durationMs !== undefined) preview.take(made.sha256, made.durationMs);
      else if (made.job) preview.follow(made.job);
    } catch (failure) {
      const reason = failure instanceof ApiError ? failure.problem.reason : undefined;
      preview.fail(errorMessage(failure), reason ?? 'refused');
    }
  };

  const modes: Array<[VariantMode, string]> = [
    ['text', t('modeText')],
    ['upload', t('modeUpload')],
    ['record', t('modeRecord')],
    ['none', t('modeNone')],
  ];
  return (
    <fieldset className="variant">
      <legend>
        {t('variantLegend', { position, language: name })}
        {value.kind !== 'none' && !(value.kind === 'audio' && value.busy) && (
          <span className="ok"> — {t('variantReady')}</span>
        )}
      </legend>
      <div className="modes" role="radiogroup" aria-label={t('variantHow', { language: name })}>
        {modes.map(([m, label]) => (
          <label key={m} className="inline">
            <input type="radio" name={`${id}-mode`} value={m} checked={mode === m} onChange={() => setMode(m)} />{' '}
            {label}
          </label>
        ))}
      </div>
      {mode === 'text' && (
        <div className="text-variant">
          <label>
            {t('textLabel', { language: name })}
            <textarea rows={4} maxLength={20_000} value={text} onChange={(e) => setText(e.target.value)} />
          </label>
          {language !== 'vie' && <p className="muted">{t('textOtherLanguage')}</p>}
          <button type="button" onClick={() => void listen()} disabled={!text.trim() || preview.phase === 'processing'}>
            {t('previewSpeech')}
          </button>
          {previewedText !== undefined && previewedText !== text.trim() && preview.phase !== 'idle' && (
            <p className="muted">{t('previewStale')}</p>
          )}
          {reading && (
            <p className="reading">
              {t('readingAs')} <q>{reading}</q>
            </p>
          )}
          <AssetProgress process={preview} label={t('previewAudio', { language: name })} />
        </div>
      )}
      {mode === 'upload' && (
        <div className="upload-variant">
          <label>
            {t('fileLabel', { language: name })}
            <input
              type="file"
              accept={ACCEPT}
              onChange={(e) => {
                const chosen = e.target.files?.[0];
                if (chosen) file.send('/assets', chosen, chosen.name);
              }}
            />
          </label>
          <AssetProgress process={file} label={t('uploadedAudio', { language: name })} />
          {file.phase === 'uploading' && (
            <button type="button" onClick={file.reset}>
              {t('uploadAbort')}
            </button>
          )}
        </div>
      )}
      {mode === 'record' && <Recorder process={recording} language={language} />}
      {mode === 'none' && <p className="muted">{t('variantSkipped', { language: name })}</p>}
    </fieldset>
  );
}
