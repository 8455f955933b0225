import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';

/**
 * Real audio files for the pipeline's tests, made in the test: a speech-like signal
 * (a voiced buzz in syllables, with pauses, a high crest factor like a voice) written as
 * WAV, then converted by the system ffmpeg into every format people upload.
 */
export function speechLike(seconds: number, rate = 48_000, level = 0.3): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const syllable = t % 0.5;
    const envelope = syllable < 0.3 ? Math.sin((Math.PI * syllable) / 0.3) ** 2 : 0;
    const pitch = 120 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / rate;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    out[i] = level * envelope * v * 0.5;
  }
  return out;
}

export function wavBytes(samples: Float32Array, rate = 48_000, channels = 1, bitDepth = '16'): Buffer {
  const wav = new wavefile.WaveFile();
  const data = channels === 1 ? samples : Array.from({ length: channels }, () => samples);
  wav.fromScratch(channels, rate, '32f', data as never);
  if (bitDepth !== '32f') wav.toBitDepth(bitDepth);
  return Buffer.from(wav.toBuffer());
}

export const FFMPEG_FORMATS = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '96k'],
  opus: ['-c:a', 'libopus', '-b:a', '48k'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '4'],
  m4a: ['-c:a', 'aac', '-b:a', '96k'],
  flac: ['-c:a', 'flac'],
  webm: ['-c:a', 'libopus', '-b:a', '48k'],
} as const;
export type FfmpegFormat = keyof typeof FFMPEG_FORMATS;

export class AudioFixtures {
  readonly dir = mkdtempSync(join(tmpdir(), 'loa-audio-fixtures-'));

  file(name: string, bytes: Uint8Array): string {
    const path = join(this.dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  /** The WAV at `source` converted by ffmpeg (stereo, 44.1 kHz where the codec takes it, as phones and radio make). */
  convert(source: string, format: FfmpegFormat): string {
    const path = join(this.dir, `${source.split('/').pop()}.${format}`);
    const rate = format === 'opus' || format === 'webm' ? '48000' : '44100'; // Opus takes no 44.1 kHz
    const args = ['-v', 'error', '-y', '-i', source, '-ar', rate, '-ac', '2', ...FFMPEG_FORMATS[format], path];
    execFileSync('ffmpeg', args);
    return path;
  }
}

/** What ffprobe says of a file's first audio stream. */
export function ffprobe(path: string): { codec_name: string; channels: number; sample_rate: string; duration: string } {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'a:0',
    '-show_entries',
    'stream=codec_name,channels,sample_rate:format=duration',
    '-of',
    'json',
    path,
  ]).toString();
  const json = JSON.parse(out) as { streams: Record<string, unknown>[]; format: { duration: string } };
  return { ...(json.streams[0] as object), duration: json.format.duration } as ReturnType<typeof ffprobe>;
}
