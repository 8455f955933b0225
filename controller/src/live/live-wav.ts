import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { downmix } from '../audio/decoding/resample.js';

export interface WavAudio {
  sampleRate: number;
  /** Mono (channels averaged), -1..1. */
  samples: Float32Array;
}

/** Reads a PCM or float WAV file (any rate, any channel count) as mono; a clear error for anything else. */
export async function readWavMono(path: string): Promise<WavAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE')
    throw new Error(`${path} is not a WAV file (no RIFF/WAVE header); convert it first, e.g. ffmpeg -i in.mp3 out.wav`);
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
    const format = (wav.fmt as { audioFormat: number }).audioFormat;
    // A-law and µ-law are expanded to 16-bit PCM first; then everything to float.
    if (format === 6 || format === 7) wav.toBitDepth('16');
    wav.toBitDepth('32f');
  } catch (error) {
    throw new Error(`${path} is a WAV file that cannot be read: ${(error as Error).message}`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const raw = wav.getSamples(false, Float32Array) as unknown as Float32Array[] | Float32Array;
  const channels = Array.isArray(raw) ? raw : [raw];
  const length = channels[0]?.length ?? 0;
  if (length === 0) throw new Error(`${path} holds no audio`);
  return { sampleRate: fmt.sampleRate, samples: downmix(channels, length) };
}
