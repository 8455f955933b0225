import { OggOpusDecoder } from 'ogg-opus-decoder';
import { floatToPcm16 } from './gain.js';

/**
 * Ogg Opus to PCM: 48 kHz, mono. The one place that knows the codec.
 *
 * The design asked for node-opus. It builds here from source (node-gyp, its bundled 2015
 * libopus snapshot), but only with a C toolchain and Node headers on every receiver, again
 * at every Node upgrade, and it has no Ogg demuxer (its optional `ogg-packet` does not
 * build). `@discordjs/opus` first tries to download a prebuilt binary at install, which
 * this project forbids, before falling back to the same kind of build. ogg-opus-decoder is
 * libopus compiled to WebAssembly and shipped inside the npm package, with an Ogg demuxer
 * that honours the pre-skip and the end trim: no install script, no build, no download, and
 * the same decoder on every receiver and in CI (edge-agent/README.md, "Opus decoding").
 *
 * Decoding streams: the compressed file (about 1.8 MB for ten minutes at 24 kbit/s) is fed
 * to the decoder a slice at a time and PCM comes out a few seconds at a time, so a
 * ten-minute item never holds its 58 MB of PCM at once.
 */

export const SAMPLE_RATE = 48_000;

/** Compressed bytes fed to the decoder at a time: about 2.7 s of 24 kbit/s speech. */
export const DECODE_SLICE_BYTES = 8 * 1024;

export class UndecodableAudioError extends Error {}

/**
 * Whether a file starts like an Ogg Opus stream: an Ogg page ("OggS", version 0, first
 * page of its stream) whose one packet is an "OpusHead" identification header. Cheap, so
 * an item can be refused before the amplifier is powered.
 */
export function looksLikeOggOpus(file: Uint8Array): boolean {
  if (file.length < 47) return false;
  const ascii = (at: number, length: number) => String.fromCharCode(...file.subarray(at, at + length));
  if (ascii(0, 4) !== 'OggS' || file[4] !== 0 || ((file[5] as number) & 0x02) === 0) return false;
  const payload = 27 + (file[26] as number);
  return ascii(payload, 8) === 'OpusHead';
}

/** Several channels' samples as one (their mean); a mono stream passes through. */
function downmix(channelData: Float32Array[], samples: number): Float32Array {
  const [first] = channelData;
  if (!first) return new Float32Array(0);
  if (channelData.length === 1) return first.length === samples ? first : first.subarray(0, samples);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    let sum = 0;
    for (const channel of channelData) sum += channel[i] ?? 0;
    out[i] = sum / channelData.length;
  }
  return out;
}

/**
 * Decodes an Ogg Opus file as it goes: yields mono float PCM (full scale ±1), a few
 * seconds at a time, in order. Throws UndecodableAudioError for a file that is not Ogg
 * Opus or yields no sound. A damaged frame inside an otherwise good stream is concealed by
 * libopus (a short gap), not fatal: a glitch is better than a silent warning.
 */
export async function* decodeOggOpusStream(
  file: Uint8Array,
  sliceBytes = DECODE_SLICE_BYTES,
): AsyncGenerator<Float32Array, void, undefined> {
  if (!looksLikeOggOpus(file)) throw new UndecodableAudioError('not Ogg Opus audio (no OpusHead page)');
  const decoder = new OggOpusDecoder();
  let samples = 0;
  let firstError: string | undefined;
  try {
    await decoder.ready;
    // decode() is asynchronous although its published type says otherwise.
    const decode = async (slice: Uint8Array | undefined) => {
      const out = await (slice ? decoder.decode(slice) : decoder.flush());
      firstError ??= out.errors[0]?.message;
      samples += out.samplesDecoded;
      return out.samplesDecoded > 0 ? downmix(out.channelData, out.samplesDecoded) : undefined;
    };
    for (let at = 0; at < file.length; at += sliceBytes) {
      const pcm = await decode(file.subarray(at, Math.min(file.length, at + sliceBytes)));
      if (pcm) yield pcm;
    }
    const rest = await decode(undefined);
    if (rest) yield rest;
  } catch (error) {
    if (error instanceof UndecodableAudioError) throw error;
    throw new UndecodableAudioError(`cannot decode: ${(error as Error).message}`);
  } finally {
    decoder.free();
  }
  if (samples === 0) throw new UndecodableAudioError(`no sound in the stream${firstError ? `: ${firstError}` : ''}`);
}

/** Decodes a whole Ogg Opus file to 16-bit PCM (short assets, tests). */
export async function decodeOggOpus(file: Uint8Array): Promise<Int16Array> {
  const pieces: Float32Array[] = [];
  for await (const piece of decodeOggOpusStream(file)) pieces.push(piece);
  const all = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    all.set(piece, at);
    at += piece.length;
  }
  return floatToPcm16(all, 1);
}
