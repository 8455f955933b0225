import type { LanguageCode } from '@loa/protocols';

/**
 * A text-to-speech engine. espeak-ng (offline, a Debian package) is the default; an HTTP
 * service with better voices can take its place (TTS_ENGINE=http). The engine answers
 * audio of any format the pipeline decodes; loudness and Opus are the pipeline's.
 */
export interface SpeechEngine {
  /** Names the engine in the cache key: a different engine never reuses another's audio. */
  readonly id: string;
  /** The voice for a language, or undefined when the engine does not speak it. */
  voiceFor(language: LanguageCode): string | undefined;
  /** The words (already read out by the language's reading rules) as audio. */
  synthesise(text: string, voice: string, signal?: AbortSignal): Promise<Buffer>;
}

/** A failure worth trying again (an engine busy, a service away), not a refusal. */
export class TransientSpeechError extends Error {}
