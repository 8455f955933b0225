import { spawn } from 'node:child_process';
import type { LanguageCode } from '@loa/protocols';
import { type SpeechEngine, TransientSpeechError } from './speech-engine.js';

/** espeak-ng voices by language: the northern Vietnamese voice, as Hanoi broadcasts speak. */
const VOICES: Partial<Record<LanguageCode, string>> = { vie: 'vi' };

/**
 * espeak-ng, offline formant synthesis: robotic but always there, on every server, with no
 * network. Speaks Vietnamese; no engine here speaks the ethnic languages, which are
 * recorded instead. Text goes in on stdin (never as an argument a shell could read), WAV
 * comes out on stdout.
 */
export class EspeakNgEngine implements SpeechEngine {
  readonly id: string;

  constructor(
    private readonly command = 'espeak-ng',
    /** Words per minute: a little slower than espeak's 175, as announcers speak outdoors. */
    private readonly wordsPerMinute = 145,
  ) {
    this.id = `espeak-ng@${wordsPerMinute}wpm`;
  }

  voiceFor(language: LanguageCode): string | undefined {
    return VOICES[language];
  }

  synthesise(text: string, voice: string, signal?: AbortSignal): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, ['-v', voice, '-s', String(this.wordsPerMinute), '--stdin', '--stdout'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(signal ? { signal } : {}),
      });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', (error) =>
        reject(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? new Error(`${this.command} is not installed (scripts/setup.sh installs Debian's espeak-ng)`)
            : new TransientSpeechError(`espeak-ng failed to start: ${error.message}`),
        ),
      );
      child.on('close', (code) => {
        if (code === 0 && out.length > 0) resolve(Buffer.concat(out));
        else reject(new TransientSpeechError(`espeak-ng exited with ${code}: ${stderr.trim().slice(0, 200)}`));
      });
      child.stdin.end(text, 'utf8');
    });
  }
}
