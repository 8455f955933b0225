import type { LanguageCode } from '@loa/protocols';
import { AudioRefusal } from '../audio/decoding/audio-refusal.js';
import { type SpeechEngine, TransientSpeechError } from './speech-engine.js';

/**
 * A TTS service over HTTP (TTS_ENGINE=http, TTS_HTTP_URL): `POST {text, voice, language}`
 * as JSON, answered with the audio (any format the pipeline decodes). Voices come from
 * TTS_HTTP_VOICES ("vie=banmai,hmn=..."). A 5xx or a network failure is retried; a 4xx
 * is the text's problem and refused.
 */
export class HttpSpeechEngine implements SpeechEngine {
  readonly id: string;

  constructor(
    private readonly url: string,
    private readonly voices: Partial<Record<LanguageCode, string>>,
    private readonly timeoutMs = 60_000,
  ) {
    this.id = `http:${new URL(url).host}`;
  }

  voiceFor(language: LanguageCode): string | undefined {
    return this.voices[language];
  }

  async synthesise(text: string, voice: string, signal?: AbortSignal): Promise<Buffer> {
    const language = Object.entries(this.voices).find(([, v]) => v === voice)?.[0];
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'audio/*' },
        body: JSON.stringify({ text, voice, language }),
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)])
          : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new TransientSpeechError(`the TTS service at ${this.url} did not answer: ${(error as Error).message}`);
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status >= 500 || response.status === 429)
      throw new TransientSpeechError(`the TTS service answered ${response.status}`);
    if (!response.ok)
      throw new AudioRefusal(
        'corrupt',
        `the TTS service refused the text (${response.status}: ${body.toString('utf8').slice(0, 200)})`,
      );
    return body;
  }
}

/** "vie=banmai,hmn=xyz" as voices by language. */
export function parseVoices(setting: string): Partial<Record<LanguageCode, string>> {
  const voices: Record<string, string> = {};
  for (const pair of setting.split(',')) {
    const [language, voice] = pair.split('=').map((s) => s.trim());
    if (language && voice) voices[language] = voice;
  }
  return voices as Partial<Record<LanguageCode, string>>;
}
