import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import type { AlertStatus } from './alert-api.ts';

type SpeechLanguage = 'vie' | 'eng';

/**
 * What the controller says first for an Exercise or Test, in each language (alert-audio.ts
 * NOT_REAL): the preview speaks the same words as the issue will, so the issue finds them
 * already synthesised in the speech cache.
 */
const NOT_REAL: Record<Exclude<AlertStatus, 'Actual'>, Record<SpeechLanguage, string>> = {
  Exercise: { vie: 'Đây là tin diễn tập, không phải tin thật.', eng: 'This is an exercise, not a real alert.' },
  Test: { vie: 'Đây là tin thử nghiệm, không phải tin thật.', eng: 'This is a test, not a real alert.' },
};

/** The text one language's segment says, as the controller joins it (alert-audio.ts alertText). */
export function spokenText(status: AlertStatus, language: SpeechLanguage, headline: string, instruction: string) {
  return [status === 'Actual' ? undefined : NOT_REAL[status][language], headline, instruction]
    .filter((t): t is string => Boolean(t?.trim()))
    .map((t) => (/[.!?]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`))
    .join(' ');
}

async function speechAsset(language: SpeechLanguage, text: string): Promise<string> {
  const answer = await must(
    api.POST('/speech/preview', { body: { language, text }, params: { header: { prefer: 'wait=60' } } }),
  );
  if (!('job' in answer)) return String((answer as { sha256?: unknown }).sha256);
  // Still being made after the wait: follow the job (bounded; synthesis takes seconds).
  const jobId = (answer.job as { id: string }).id;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const job = await must(api.GET('/audio-jobs/{id}', { params: { path: { id: jobId } } }));
    if (job.state === 'completed' && job.sha256) return job.sha256;
    if (job.state === 'refused' || job.state === 'failed') throw new Error(job.detail ?? job.reason ?? job.state);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('timeout');
}

export interface PreviewText {
  language: SpeechLanguage;
  headline: string;
  instruction: string;
}

interface Made {
  siren?: string;
  speech: Array<{ language: SpeechLanguage; sha256: string; text: string }>;
}

/**
 * Preview of what the receivers will sound: the siren of the risk level (GET /tones) and
 * the speech of each language (POST /speech/preview, the same engine and settings the
 * issue uses), each in its own player, or all in order with "Listen to all".
 */
export function AudioPreview({ status, level, texts }: { status: AlertStatus; level: number; texts: PreviewText[] }) {
  const { t } = useTranslation('alerts');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [made, setMade] = useState<Made>();
  const players = useRef<HTMLDivElement>(null);
  const spoken = texts.filter((x) => x.headline.trim());

  const make = async () => {
    setBusy(true);
    setError(undefined);
    setMade(undefined);
    try {
      const tones = await must(api.GET('/tones'));
      const siren = tones.find((tone) => tone.name === `siren-${level}`);
      const speech = [];
      for (const x of spoken) {
        const text = spokenText(status, x.language, x.headline, x.instruction);
        speech.push({ language: x.language, text, sha256: await speechAsset(x.language, text) });
      }
      const sirenSha = siren ? String((siren.asset as { sha256?: unknown }).sha256) : undefined;
      setMade({ ...(sirenSha ? { siren: sirenSha } : {}), speech });
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  /** Plays every player in turn, each starting when the one before ends. */
  const playAll = () => {
    const list = [...(players.current?.querySelectorAll('audio') ?? [])];
    list.forEach((player, i) => {
      player.onended = i + 1 < list.length ? () => void list[i + 1]?.play() : null;
    });
    const first = list[0];
    if (first) {
      first.currentTime = 0;
      void first.play();
    }
  };

  return (
    <section className="audio-preview" aria-labelledby="audio-preview-title">
      <h3 id="audio-preview-title">{t('previewTitle')}</h3>
      <p className="muted">{t('previewHint')}</p>
      <button type="button" onClick={() => void make()} disabled={busy || spoken.length === 0}>
        {busy ? t('previewMaking') : t('previewMake')}
      </button>
      {error && (
        <p className="error" role="alert">
          {t('previewFailed', { detail: error })}
        </p>
      )}
      {made && (
        <div className="preview-players" ref={players}>
          {made.siren && (
            <div className="preview-player">
              <span id="preview-siren">{t('previewSiren', { level })}</span>
              {/* biome-ignore lint/a11y/useMediaCaption: a siren, no words to caption */}
              <audio controls preload="auto" src={`/assets/${made.siren}`} aria-labelledby="preview-siren" />
            </div>
          )}
          {made.speech.map((s) => (
            <div className="preview-player" key={s.language}>
              <span id={`preview-${s.language}`}>
                {s.language === 'vie' ? t('previewSpeechVie') : t('previewSpeechEng')}
              </span>
              {/* biome-ignore lint/a11y/useMediaCaption: its transcript is printed right below */}
              <audio
                controls
                preload="auto"
                src={`/assets/${s.sha256}`}
                aria-labelledby={`preview-${s.language}`}
                aria-describedby={`preview-${s.language}-text`}
              />
              <p className="muted" id={`preview-${s.language}-text`}>
                {s.text}
              </p>
            </div>
          ))}
          <button type="button" onClick={playAll}>
            {t('previewPlayAll')}
          </button>
        </div>
      )}
    </section>
  );
}
