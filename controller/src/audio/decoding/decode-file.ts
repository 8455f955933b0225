import { open, readFile, stat } from 'node:fs/promises';
import { AudioRefusal } from './audio-refusal.js';
import { decodeWithFfmpeg, hasFfmpeg } from './ffmpeg.js';
import { decodeMp3, decodeOggOpus, decodeWav } from './npm-decoders.js';
import { probeOggOpus } from './ogg-opus-probe.js';
import { type AudioFormat, FORMAT_NAMES, sniffAudio } from './sniff.js';

/** Which decoders to use: ffmpeg where installed (auto), or only one kind. */
export type DecoderChoice = 'auto' | 'ffmpeg' | 'npm';

const NPM_DECODERS: Partial<Record<AudioFormat, (path: string) => AsyncGenerator<Float32Array>>> = {
  wav: decodeWav,
  mp3: decodeMp3,
  'ogg-opus': decodeOggOpus,
};

export interface OpenedAudio {
  format: AudioFormat;
  bytes: number;
  decoder: 'ffmpeg' | 'npm';
  /** The playing time the container states, once known (for progress only). */
  statedMs: number | undefined;
  /** Decodes from the start (each call again): mono 48 kHz float PCM chunks. */
  decode(): AsyncGenerator<Float32Array>;
}

/** Audio types and extensions people send, to tell a disguised file from an unlabelled one. */
const AUDIO_CLAIM = /^(audio\/|video\/webm|video\/mp4|\.(wav|mp3|ogg|oga|opus|m4a|aac|mp4|flac|webm|wma|amr|3gp)$)/;

/**
 * Opens an uploaded file for decoding: sniffs what it really is (the claimed type or
 * name only words a refusal), picks the decoder, or refuses with the reason.
 */
export async function openAudio(
  path: string,
  options: { decoder: DecoderChoice; ffmpeg?: string; claimed?: string | undefined },
): Promise<OpenedAudio> {
  const { size } = await stat(path);
  if (size === 0) throw new AudioRefusal('empty', 'the file is empty (0 bytes)');
  const handle = await open(path, 'r');
  const head = Buffer.alloc(Math.min(size, 65_536));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const sniffed = sniffAudio(head);
  if (sniffed.audio === null) {
    const claimed = options.claimed;
    if (claimed && AUDIO_CLAIM.test(claimed))
      throw new AudioRefusal('disguised', `the file was sent as ${claimed} but is ${sniffed.what}, not audio`);
    throw new AudioRefusal('not-audio', `the file is ${sniffed.what}, not a recording this server reads`);
  }
  const format = sniffed.audio;
  if (format === 'ogg-opus') {
    // Every page's CRC and the stream's end are checked: libopus would conceal a damaged
    // or cut file as silence, and a truncated warning must be refused, not aired half.
    const probed = probeOggOpus(await readFile(path));
    if (!probed.ok)
      throw new AudioRefusal(probed.reason === 'zero-duration' ? 'zero-duration' : 'corrupt', probed.message);
  }
  const useFfmpeg = options.decoder !== 'npm' && (await hasFfmpeg(options.ffmpeg));
  if (useFfmpeg) {
    const opened: OpenedAudio = {
      format,
      bytes: size,
      decoder: 'ffmpeg',
      statedMs: undefined,
      decode: () =>
        decodeWithFfmpeg(path, options.ffmpeg, (ms) => {
          opened.statedMs = ms;
        }),
    };
    return opened;
  }
  if (options.decoder === 'ffmpeg')
    throw new AudioRefusal(
      'needs-ffmpeg',
      `${FORMAT_NAMES[format]} is to be decoded with ffmpeg, which is not installed`,
    );
  const npm = NPM_DECODERS[format];
  if (!npm) throw new AudioRefusal('needs-ffmpeg', `${FORMAT_NAMES[format]} needs ffmpeg to decode`);
  return { format, bytes: size, decoder: 'npm', statedMs: undefined, decode: () => npm(path) };
}
