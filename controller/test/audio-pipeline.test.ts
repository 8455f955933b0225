import { readFileSync } from 'node:fs';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { beforeAll, describe, expect, it } from 'vitest';
import { AudioRefusal, type RefusalReason } from '../src/audio/decoding/audio-refusal.js';
import { type DecoderChoice, openAudio } from '../src/audio/decoding/decode-file.js';
import { hasFfmpeg } from '../src/audio/decoding/ffmpeg.js';
import { OggOpusEncoder } from '../src/audio/encoding/opus-encoder.js';
import { LoudnessMeter } from '../src/audio/loudness/index.js';
import { DEFAULT_PIPELINE, prepareAudio } from '../src/audio/pipeline.js';
import {
  AudioFixtures,
  FFMPEG_FORMATS,
  type FfmpegFormat,
  ffprobe,
  speechLike,
  wavBytes,
} from './support/audio-fixtures.js';

const fixtures = new AudioFixtures();
const SECONDS = 4;
/** A quiet recording (about −45 LUFS) and a hot one (peaks at full scale): both must end at −16. */
let quiet: string;
let hot: string;
const converted = new Map<FfmpegFormat, string>();

beforeAll(async () => {
  // ffmpeg is a Debian package scripts/setup.sh installs: without it these tests cannot run.
  expect(await hasFfmpeg(), 'ffmpeg is not installed; run scripts/setup.sh').toBe(true);
  quiet = fixtures.file('quiet.wav', wavBytes(speechLike(SECONDS, 22_050, 0.03), 22_050));
  hot = fixtures.file('hot.wav', wavBytes(speechLike(SECONDS, 48_000, 1.1)));
  for (const format of Object.keys(FFMPEG_FORMATS) as FfmpegFormat[])
    converted.set(format, fixtures.convert(quiet, format));
});

/** Decodes the output as a receiver does and measures it. */
async function heard(ogg: Buffer) {
  const decoder = new OggOpusDecoder();
  await decoder.ready;
  const decoded = await decoder.decodeFile(ogg);
  decoder.free();
  const meter = new LoudnessMeter(48_000);
  meter.push(decoded.channelData[0] as Float32Array);
  return { decoded, lufs: meter.integratedLufs(), peak: meter.truePeakDbtp() };
}

async function prepare(path: string, decoder: DecoderChoice = 'auto', claimed?: string) {
  return prepareAudio(await openAudio(path, { decoder, claimed }), DEFAULT_PIPELINE);
}

async function refusal(path: string, decoder: DecoderChoice = 'auto', claimed?: string, settings = DEFAULT_PIPELINE) {
  try {
    await prepareAudio(await openAudio(path, { decoder, claimed }), settings);
  } catch (error) {
    if (error instanceof AudioRefusal) return { reason: error.reason, detail: error.detail };
    throw error;
  }
  throw new Error(`${path} was accepted`);
}

/**
 * The output meets the broadcast target: −16 LUFS ±1 LU as decoded, the encoder given a
 * signal under the ceiling (−1 dBTP, less the codec allowance), the decoded file peaking
 * at about full scale at most, mono 48 kHz Opus.
 */
async function expectBroadcastReady(prepared: Awaited<ReturnType<typeof prepare>>, sourceMs: number, toleranceMs = 60) {
  const out = await heard(prepared.ogg);
  expect(out.decoded.sampleRate).toBe(48_000);
  expect(out.decoded.channelData).toHaveLength(1);
  expect(Math.abs(out.decoded.samplesDecoded / 48 - sourceMs)).toBeLessThan(toleranceMs);
  expect(Math.abs(prepared.durationMs - sourceMs)).toBeLessThan(toleranceMs);
  expect(Math.abs(out.lufs - -16)).toBeLessThanOrEqual(1);
  expect(prepared.limitedTruePeakDbtp).toBeLessThanOrEqual(-2);
  // Opus rebuilds some of the peaks the limiter took (1-3 dB): about full scale at most.
  expect(out.peak).toBeLessThanOrEqual(0.5);
  // What is recorded is what was measured on the decoded output.
  expect(prepared.loudnessLufs).toBeCloseTo(out.lufs, 1);
  expect(prepared.truePeakDbtp).toBeCloseTo(out.peak, 1);
  // The system's own decoder agrees it is mono 48 kHz Opus.
  const path = fixtures.file(`out-${Math.random().toString(36).slice(2)}.opus`, prepared.ogg);
  expect(ffprobe(path)).toMatchObject({ codec_name: 'opus', channels: 1, sample_rate: '48000' });
}

describe('audio pipeline: every format people upload', () => {
  it.each(Object.keys(FFMPEG_FORMATS) as FfmpegFormat[])(
    'decodes %s through ffmpeg, brings it to −16 LUFS and encodes Ogg Opus',
    async (format) => {
      const prepared = await prepare(converted.get(format) as string);
      // AAC adds its priming delay; the rest keep the length to a frame.
      await expectBroadcastReady(prepared, SECONDS * 1000, format === 'm4a' ? 120 : 60);
      expect(prepared.source.format).toBe(format === 'opus' ? 'ogg-opus' : format === 'ogg' ? 'ogg-vorbis' : format);
      expect(prepared.source.loudnessLufs).toBeLessThan(-28);
    },
  );

  it('decodes WAV (16-bit 22 kHz, 24-bit 44.1 kHz stereo, float 48 kHz), MP3 and Ogg Opus without ffmpeg', async () => {
    const files = [
      quiet,
      fixtures.file('s24.wav', wavBytes(speechLike(SECONDS, 44_100, 0.1), 44_100, 2, '24')),
      fixtures.file('f32.wav', wavBytes(speechLike(SECONDS, 48_000, 0.1), 48_000, 1, '32f')),
      converted.get('mp3') as string,
      converted.get('opus') as string,
    ];
    for (const file of files) {
      const opened = await openAudio(file, { decoder: 'npm' });
      expect(opened.decoder).toBe('npm');
      // MP3 encoders pad the start (encoder delay, about 50 ms) where ffmpeg trims it.
      await expectBroadcastReady(await prepareAudio(opened), SECONDS * 1000, file.endsWith('.mp3') ? 80 : 60);
    }
  });

  it('brings a hot recording (peaks at full scale) down to the target under the ceiling', async () => {
    const prepared = await prepare(hot);
    expect(prepared.source.truePeakDbtp).toBeGreaterThan(-2);
    expect(prepared.source.loudnessLufs).toBeGreaterThan(-15);
    await expectBroadcastReady(prepared, SECONDS * 1000);
  });

  it('holds target and ceiling even for material clipped into a square wave', async () => {
    const clipped = speechLike(SECONDS, 48_000, 3).map((x) => Math.max(-1, Math.min(1, x)));
    await expectBroadcastReady(await prepare(fixtures.file('clipped.wav', wavBytes(clipped))), SECONDS * 1000);
  });

  it('says which formats need ffmpeg when only the npm decoders may be used', async () => {
    for (const format of ['ogg', 'm4a', 'flac', 'webm'] as const) {
      const refused = await refusal(converted.get(format) as string, 'npm');
      expect(refused.reason).toBe('needs-ffmpeg');
      expect(refused.detail).toMatch(/ffmpeg/);
    }
  });
});

describe('audio pipeline: bad files are refused with the right reason', () => {
  const cases: [string, () => string, RefusalReason, RegExp, string?][] = [
    ['an empty file', () => fixtures.file('empty.mp3', Buffer.alloc(0)), 'empty', /empty/],
    [
      'a PNG image sent as audio/mpeg',
      () =>
        fixtures.file(
          'photo.mp3',
          Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\r\n\x1a\n'), Buffer.alloc(200, 7)]),
        ),
      'disguised',
      /sent as audio\/mpeg but is a PNG image/,
      'audio/mpeg',
    ],
    [
      'a PDF with no claim',
      () => fixtures.file('doc', Buffer.from('%PDF-1.7 ...........')),
      'not-audio',
      /a PDF document/,
    ],
    [
      'random bytes',
      () => fixtures.file('noise.bin', Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251))),
      'not-audio',
      /no known audio format/,
    ],
    ['a silent WAV', () => fixtures.file('silent.wav', wavBytes(new Float32Array(48_000 * 3))), 'silent', /silent/],
    [
      'a WAV header without samples',
      () => fixtures.file('nothing.wav', wavBytes(new Float32Array(0))),
      'zero-duration',
      /no audio/,
    ],
    [
      'a WAV whose header is broken',
      () => {
        const bytes = wavBytes(speechLike(1));
        bytes.write('junk', 12); // the "fmt " chunk's name
        return fixtures.file('broken.wav', bytes);
      },
      'corrupt',
      /could not be decoded|could not be read/,
    ],
    [
      'an Ogg Opus file cut off part way',
      () => {
        const whole = readFileSync(converted.get('opus') as string);
        return fixtures.file('cut.opus', whole.subarray(0, Math.floor(whole.length * 0.6)));
      },
      'corrupt',
      /trunc|cut|end/i,
    ],
  ];
  for (const [what, make, reason, detail, claimed] of cases)
    for (const decoder of ['auto', 'npm'] as const)
      it(`refuses ${what} (${decoder} decoders): ${reason}`, async () => {
        const refused = await refusal(make(), decoder, claimed);
        expect(refused.reason).toBe(reason);
        expect(refused.detail).toMatch(detail);
      });

  it('refuses a recording longer than the limit, as soon as the limit is passed', async () => {
    const refused = await refusal(quiet, 'auto', undefined, { ...DEFAULT_PIPELINE, maxDurationMs: 2000 });
    expect(refused).toMatchObject({ reason: 'too-long', detail: expect.stringMatching(/longer than 2 s/) });
  });
});

describe('Opus encoding', () => {
  const encode = (settings: ConstructorParameters<typeof OggOpusEncoder>[0]) => {
    const encoder = new OggOpusEncoder(settings);
    encoder.push(speechLike(10, 48_000, 0.3));
    return Buffer.concat([encoder.take(), encoder.end()]);
  };

  it('is speech-tuned mono at the configured bitrate, with a correct Ogg Opus header', async () => {
    const file = encode({});
    const head = file.subarray(28, 47);
    expect(head.subarray(0, 8).toString()).toBe('OpusHead');
    expect(head[9]).toBe(1); // mono
    expect(head.readUInt16LE(10)).toBe(312); // pre-skip: libopus's look-ahead
    const kbps = (file.length * 8) / 10 / 1000;
    expect(kbps).toBeGreaterThan(14);
    expect(kbps).toBeLessThan(30);
    expect((encode({ bitrate: 12_000 }).length * 8) / 10 / 1000 < kbps - 5).toBe(true);
    const out = await heard(file);
    expect(out.decoded.samplesDecoded).toBe(480_000); // trimmed exactly to the input
  });

  it('puts about a second of packets on a page, not one packet per page', () => {
    const file = encode({});
    let pages = 0;
    for (let at = file.indexOf('OggS'); at >= 0; at = file.indexOf('OggS', at + 4)) pages++;
    expect(pages).toBeGreaterThanOrEqual(2 + 10);
    expect(pages).toBeLessThanOrEqual(2 + 12);
  });

  it('carries in-band FEC when loss is expected (the bitstream differs from one without)', () => {
    expect(encode({ expectedLossPercent: 10 }).equals(encode({ expectedLossPercent: 0 }))).toBe(false);
    expect(encode({ expectedLossPercent: 10 }).equals(encode({ expectedLossPercent: 10 }))).toBe(true);
  });

  it('frames at the configured length (20 ms by default; 60 ms packs fewer packets)', () => {
    const packets = (file: Buffer) => {
      let n = 0;
      for (let at = file.indexOf('OggS'); at >= 0; at = file.indexOf('OggS', at + 4)) {
        const segments = file[at + 26] as number;
        for (let i = 0; i < segments; i++) if ((file[at + 27 + i] as number) < 255) n++;
      }
      return n - 2; // less the two header packets
    };
    expect(packets(encode({}))).toBe(Math.ceil((480_000 + 312) / 960));
    expect(packets(encode({ frameMs: 60 }))).toBe(Math.ceil((480_000 + 312) / 2880));
  });
});
