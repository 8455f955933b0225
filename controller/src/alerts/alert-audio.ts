import {
  type AlertStatus,
  type AssetRef,
  isLanguageCode,
  type LanguageCode,
  type PlayableItem,
  type RiskLevel,
  type Segment,
  toneName,
} from '@loa/protocols';
import { toneAssets } from '../audio/tone-assets.js';
import type { Database } from '../database/client.js';
import { assetRef } from '../dispatch/audio-segments.js';
import { Problem } from '../http/problem.js';
import type { SpeechSynthesis } from '../speech/speech-synthesis.js';

/**
 * An Exercise or a Test is announced as such before anything else is said, in every
 * language it is read in (Hawaii 2018: a drill and the real thing looked the same).
 */
const NOT_REAL: Partial<Record<AlertStatus, Partial<Record<LanguageCode, string>>>> = {
  Exercise: { vie: 'Đây là tin diễn tập, không phải tin thật.', eng: 'This is an exercise, not a real alert.' },
  Test: { vie: 'Đây là tin thử nghiệm, không phải tin thật.', eng: 'This is a test, not a real alert.' },
};

export interface AlertWords {
  status: AlertStatus;
  riskLevel: RiskLevel;
  headline: Record<string, string>;
  instruction: Record<string, string>;
  /** Recorded audio per language, used instead of speech where given. */
  audio: Record<string, string>;
  /** The recorded audio itself says the Exercise or Test is not real (where no engine can say it). */
  audioAnnouncesStatus?: boolean;
}

/** The text a language's segment says: the not-real notice, the headline, the instruction. */
export function alertText(words: AlertWords, language: LanguageCode): string {
  return [NOT_REAL[words.status]?.[language], words.headline[language], words.instruction[language]]
    .filter((t): t is string => Boolean(t?.trim()))
    .map((t) => (/[.!?]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`))
    .join(' ');
}

/**
 * The alert's playable item: the siren of its risk level (or the chime, for a
 * cancellation message), then one segment per language
 * (Vietnamese first), recorded audio where given, else synthesised speech. Refused (422)
 * when no language has audio: an alert must never go out silent. An Exercise or Test
 * says so first in every language: spoken before a recording where an engine speaks the
 * language; else the recording must say it (audioAnnouncesStatus), or it is refused (422).
 */
export async function alertItem(
  db: Database,
  speech: SpeechSynthesis,
  words: AlertWords,
  options: { itemId: string; title: string; volume: number; prelude?: 'siren' | 'chime' },
): Promise<{ item: PlayableItem; assets: AssetRef[] }> {
  const languages = [...new Set([...Object.keys(words.headline), ...Object.keys(words.audio)])]
    .filter(isLanguageCode)
    .sort((a, b) => (a === 'vie' ? -1 : b === 'vie' ? 1 : a.localeCompare(b)));
  const segments: Segment[] = [];
  const assets: AssetRef[] = [];
  const unspoken: string[] = [];
  const unannounced: string[] = [];
  for (const language of languages) {
    const recorded = words.audio[language];
    const asset = recorded
      ? await db.asset.findUnique({ where: { sha256: recorded } })
      : speech.voiceFor(language)
        ? await speech.synthesise(language, alertText(words, language))
        : null;
    if (!asset) {
      unspoken.push(language);
      continue;
    }
    // A recording does not say it is a drill: the notice is spoken before it, in its language.
    const notice = recorded ? NOT_REAL[words.status]?.[language] : undefined;
    if (notice && speech.voiceFor(language)) {
      const said = await speech.synthesise(language, notice);
      segments.push({ language, sha256: said.sha256, durationMs: said.durationMs });
      assets.push(assetRef(said));
    } else if (recorded && NOT_REAL[words.status] && !words.audioAnnouncesStatus) unannounced.push(language);
    segments.push({ language, sha256: asset.sha256, durationMs: asset.durationMs });
    assets.push(assetRef(asset));
  }
  if (unannounced.length > 0)
    throw new Problem(
      422,
      'Unprocessable Content',
      `this ${words.status} alert's recorded audio in ${unannounced.join(', ')} would air without saying it is not real, and no speech engine speaks that language: record the notice at its start and set audioAnnouncesStatus, or give the text to synthesise`,
    );
  if (segments.length === 0)
    throw new Problem(
      422,
      'Unprocessable Content',
      `the alert has no audio in any language (${unspoken.join(', ') || 'none given'}): give a Vietnamese headline to synthesise, or recorded audio`,
    );
  const prelude = options.prelude ?? 'siren';
  const tone = (await toneAssets(db)).get(toneName(prelude, words.riskLevel));
  if (tone) assets.push(assetRef(tone));
  return {
    item: {
      itemId: options.itemId,
      title: options.title.slice(0, 200),
      priority: 'emergency',
      startMode: 'hard',
      volume: options.volume,
      repeat: 1,
      prelude,
      ...(tone ? { preludeSha256: tone.sha256 } : {}),
      segments,
    },
    assets,
  };
}
