import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MPEGDecoder } from 'mpg123-decoder';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import wavefile from 'wavefile';
import { AudioRefusal } from './audio-refusal.js';
import { downmix, resamplerTo48k } from './resample.js';

// Decoders that need no system package (libmpg123 and libopus compiled to wasm, WAV parsed
// by wavefile), so WAV, MP3 and Ogg Opus work where ffmpeg is not installed.

/** Bytes handed to a streaming decoder at a time. */
const SLICE = 64 * 1024;
/** Samples per chunk of a WAV file's PCM. */
const WAV_CHUNK = 48_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** A wasm streaming decoder fed slices of the file; PCM resampled to 48 kHz as it comes. */
async function* streamed(
  path: string,
  decoder: { ready: Promise<void>; decode(data: Uint8Array): Decoded | Promise<Decoded>; free(): void },
  flush?: () => Decoded | Promise<Decoded>,
): AsyncGenerator<Float32Array> {
  await decoder.ready;
  let resample: ((chunk: Float32Array) => Float32Array) | undefined;
  let frames = 0;
  let errors = 0;
  let firstError = '';
  const take = async function* (out: Decoded) {
    errors += out.errors.length;
    firstError ||= out.errors[0]?.message ?? '';
    if (out.samplesDecoded === 0) return;
    frames += out.samplesDecoded;
    resample ??= await resamplerTo48k(out.sampleRate);
    yield resample(downmix(out.channelData, out.samplesDecoded));
  };
  try {
    for await (const slice of createReadStream(path, { highWaterMark: SLICE }) as AsyncIterable<Buffer>) {
      yield* take(await decoder.decode(slice));
      await yieldToEventLoop();
    }
    if (flush) yield* take(await flush());
  } finally {
    decoder.free();
  }
  // A damaged frame in a good stream is concealed; a stream of nothing but damage is not audio.
  if (frames === 0 && errors > 0)
    throw new AudioRefusal('corrupt', `the file could not be decoded (${firstError || 'no valid frames'})`);
}

export function decodeMp3(path: string): AsyncGenerator<Float32Array> {
  return streamed(path, new MPEGDecoder());
}

export function decodeOggOpus(path: string): AsyncGenerator<Float32Array> {
  const decoder = new OggOpusDecoder();
  return streamed(path, decoder, () => decoder.flush());
}

/** WAV of any PCM or float sample format wavefile knows (8–32 bit, A-law, µ-law). */
export async function* decodeWav(path: string): AsyncGenerator<Float32Array> {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(await readFile(path));
    // A-law, µ-law and IMA ADPCM are expanded to 16-bit PCM first; then everything to float.
    const format = (wav.fmt as { audioFormat: number }).audioFormat;
    if (format === 6 || format === 7 || format === 17) wav.toBitDepth('16');
    wav.toBitDepth('32f');
  } catch (error) {
    throw new AudioRefusal('corrupt', `the WAV file could not be read (${(error as Error).message})`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const raw = wav.getSamples(false, Float32Array) as unknown as Float32Array[] | Float32Array;
  const channels = Array.isArray(raw) ? raw : fmt.numChannels > 1 ? (raw as unknown as Float32Array[]) : [raw];
  const length = channels[0]?.length ?? 0;
  const resample = await resamplerTo48k(fmt.sampleRate);
  for (let at = 0; at < length; at += WAV_CHUNK) {
    const end = Math.min(length, at + WAV_CHUNK);
    yield resample(
      downmix(
        channels.map((c) => c.subarray(at, end)),
        end - at,
      ),
    );
    await yieldToEventLoop();
  }
}

/** Decodes Ogg Opus held in memory, a slice at a time (an hour's PCM is never held whole). */
export async function* decodeOggOpusBytes(file: Uint8Array): AsyncGenerator<Float32Array> {
  const decoder = new OggOpusDecoder();
  await decoder.ready;
  try {
    for (let at = 0; at < file.length; at += SLICE) {
      const out = await decoder.decode(file.subarray(at, at + SLICE));
      if (out.samplesDecoded > 0) yield downmix(out.channelData, out.samplesDecoded);
      await yieldToEventLoop();
    }
    const rest = await decoder.flush();
    if (rest.samplesDecoded > 0) yield downmix(rest.channelData, rest.samplesDecoded);
  } finally {
    decoder.free();
  }
}
