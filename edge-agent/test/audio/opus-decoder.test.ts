import { OggOpusDecoder } from 'ogg-opus-decoder';
import { describe, expect, it } from 'vitest';
import {
  decodeOggOpus,
  decodeOggOpusStream,
  looksLikeOggOpus,
  UndecodableAudioError,
} from '../../src/audio/opus-decoder.js';
import { wavHeader } from '../../src/audio/wav-file-sink.js';
import { oggOpusFile, sine } from '../support/ogg-opus-fixture.js';
import { peakHz, RATE, rms, zeroCrossingHz } from './helpers.js';

// Real Ogg Opus files, encoded here by libopus (opusscript's wasm build, a dev dependency)
// and framed by the test fixture's Ogg writer.

describe('Ogg Opus decoding', () => {
  const tone440 = oggOpusFile(sine(440, 1));

  it('decodes a real file to 48 kHz mono PCM of the right length and pitch', async () => {
    const pcm = await decodeOggOpus(tone440);
    // 1 s, less at most one 20 ms frame (the fixture encoder's look-ahead is not flushed).
    expect(pcm.length).toBeGreaterThan(RATE - 960);
    expect(pcm.length).toBeLessThanOrEqual(RATE);
    const steady = pcm.subarray(4800, 43_200);
    expect(Math.abs(zeroCrossingHz(steady) - 440)).toBeLessThan(3);
    expect(peakHz(steady, 400, 480)).toBe(440);
    // Encoded at half scale: the level survives the codec.
    expect(rms(steady) / 32767).toBeCloseTo(0.5 / Math.SQRT2, 1);
  });

  it('streams: a long file comes out a few seconds at a time, the same as decoding it whole', async () => {
    const file = oggOpusFile(sine(880, 10, 0.3));
    const pieces: Float32Array[] = [];
    for await (const piece of decodeOggOpusStream(file)) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(8 * RATE);
    const streamed = pieces.reduce((n, p) => n + p.length, 0);

    const whole = new OggOpusDecoder();
    await whole.ready;
    const reference = await whole.decodeFile(file);
    whole.free();
    expect(streamed).toBe(reference.samplesDecoded);
    const joined = new Float32Array(streamed);
    let at = 0;
    for (const piece of pieces) {
      joined.set(piece, at);
      at += piece.length;
    }
    const expected = reference.channelData[0] as Float32Array;
    let worst = 0;
    for (let i = 0; i < streamed; i++)
      worst = Math.max(worst, Math.abs((joined[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('refuses what is not Ogg Opus, and an Ogg Opus file without sound', async () => {
    const wav = Buffer.concat([wavHeader({ sampleRate: RATE, channels: 1 }, 96_000), Buffer.alloc(96_000)]);
    expect(looksLikeOggOpus(wav)).toBe(false);
    await expect(decodeOggOpus(wav)).rejects.toBeInstanceOf(UndecodableAudioError);
    expect(looksLikeOggOpus(tone440)).toBe(true);

    const vorbis = Buffer.from(tone440);
    vorbis.write('\x01vorbis\x00', 28, 'latin1');
    expect(looksLikeOggOpus(vorbis)).toBe(false);

    // The two header pages alone: a valid stream with no audio packets.
    const headersOnly = tone440.subarray(0, headerPagesLength(tone440));
    expect(looksLikeOggOpus(headersOnly)).toBe(true);
    await expect(decodeOggOpus(headersOnly)).rejects.toThrow(/no sound/);
  });
});

/** Bytes of the first two Ogg pages (OpusHead, OpusTags). */
function headerPagesLength(file: Buffer): number {
  let at = 0;
  for (let page = 0; page < 2; page++) {
    const segments = file[at + 26] as number;
    let body = 0;
    for (let i = 0; i < segments; i++) body += file[at + 27 + i] as number;
    at += 27 + segments + body;
  }
  return at;
}
