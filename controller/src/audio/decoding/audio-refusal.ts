/** Why a file cannot become an asset. Each is the uploader's to fix, so none is retried. */
export type RefusalReason =
  | 'empty'
  | 'not-audio'
  | 'disguised'
  | 'needs-ffmpeg'
  | 'corrupt'
  | 'silent'
  | 'zero-duration'
  | 'too-long'
  | 'no-speech-engine';

/** What to do about each refusal, after the account of what is wrong. */
export const REFUSAL_ADVICE: Record<RefusalReason, string> = {
  empty: 'send the recording itself (a form field named "file", or the bytes as the body with an audio/* type)',
  'not-audio': 'upload a recording: WAV, MP3, Ogg (Opus or Vorbis), M4A/AAC, FLAC or WebM',
  disguised: 'check that the right file was chosen; renaming a file does not convert it',
  'needs-ffmpeg':
    'this server decodes it only with ffmpeg, which is not installed (scripts/setup.sh installs it); or upload WAV, MP3 or Ogg Opus',
  corrupt: 'export or copy the recording again (check that it plays) and upload the new file',
  silent: 'the recording holds no sound: check the microphone or the export, and record again',
  'zero-duration': 'upload a recording that holds audio',
  'too-long': 'split it into shorter recordings',
  'no-speech-engine': 'record this language in the dashboard or upload a recording of it',
};

export class AudioRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'AudioRefusal';
  }

  /** The whole account for the uploader: what is wrong, then what to do. */
  get detail(): string {
    return `${this.message}; ${REFUSAL_ADVICE[this.reason]}`;
  }
}
