import { AudioRefusal } from './decoding/audio-refusal.js';
import type { OpenedAudio } from './decoding/decode-file.js';
import { decodeOggOpusBytes } from './decoding/npm-decoders.js';
import { PIPELINE_RATE } from './decoding/resample.js';
import { FORMAT_NAMES } from './decoding/sniff.js';
import { DEFAULT_OPUS, OggOpusEncoder, type OpusSettings } from './encoding/opus-encoder.js';
import { LoudnessMeter, Normaliser, SILENCE_LUFS } from './loudness/index.js';

export interface PipelineSettings {
  /** Integrated loudness every asset is brought to (LUFS). Default −16. */
  targetLufs: number;
  /** Highest true peak allowed (dBTP). Default −1. */
  ceilingDbtp: number;
  opus: OpusSettings;
  /** Longest playing time accepted. */
  maxDurationMs: number;
}

export const DEFAULT_PIPELINE: PipelineSettings = {
  targetLufs: -16,
  ceilingDbtp: -1,
  opus: DEFAULT_OPUS,
  maxDurationMs: 4 * 3600_000,
};

/** The settings as one string: a repeat upload is reused only when they have not changed. */
export function processingKey(s: PipelineSettings): string {
  return `r128:${s.targetLufs}LUFS/${s.ceilingDbtp}dBTP;opus:${s.opus.bitrate}bps/${s.opus.frameMs}ms/fec${s.opus.expectedLossPercent}`;
}

export type PipelineStage = 'measuring' | 'normalising' | 'encoding';
export type Progress = (stage: PipelineStage, fraction: number) => void;

export interface PreparedAudio {
  ogg: Buffer;
  durationMs: number;
  /** Loudness and true peak of the file as decoded (what receivers play). */
  loudnessLufs: number;
  truePeakDbtp: number;
  /** True peak of what the encoder was given: at most the ceiling less the codec allowance. */
  limitedTruePeakDbtp: number;
  source: { format: string; durationMs: number; loudnessLufs: number; truePeakDbtp: number };
  processing: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** How close to the target the decoded output must come before a pass is accepted. */
const LOUDNESS_TOLERANCE_LU = 0.3;
/** Below the ceiling the limiter aims, for the peaks the codec adds. */
const CODEC_ALLOWANCE_DB = 1;
/** Encodes at most, each followed by decoding and measuring what a receiver will hear. */
const ENCODE_ROUNDS = 3;
/** Cheap passes (gain, limiter, meter) at most to find each round's gain, and how close. */
const SEARCH_PASSES = 8;
const SEARCH_TOLERANCE_LU = 0.1;
/** Decoded audio kept in memory between passes up to this length (3 min: 35 MB). */
const KEEP_DECODED_SAMPLES = 180 * PIPELINE_RATE;

/**
 * Any decodable recording to a broadcast asset, in two streaming passes over the decoded
 * audio (so an hour-long file never sits in memory as PCM): measure its loudness
 * (BS.1770), then decode again, apply the gain to the target through a true-peak limiter,
 * encode to Ogg Opus and measure what came out. Refuses silence and over-long files.
 */
export async function prepareAudio(
  opened: OpenedAudio,
  settings: PipelineSettings = DEFAULT_PIPELINE,
  progress: Progress = () => {},
): Promise<PreparedAudio> {
  let audio = opened;
  const maxSamples = (settings.maxDurationMs / 1000) * PIPELINE_RATE;

  const source = new LoudnessMeter(PIPELINE_RATE);
  // Short recordings (most announcements) are kept decoded for the later passes; longer
  // ones are decoded again each pass rather than held in memory.
  let kept: Float32Array[] | undefined = [];
  progress('measuring', 0);
  for await (const chunk of audio.decode()) {
    source.push(chunk);
    if (kept && source.samples <= KEEP_DECODED_SAMPLES) kept.push(chunk);
    else kept = undefined;
    if (source.samples > maxSamples)
      throw new AudioRefusal(
        'too-long',
        `the recording is longer than ${formatMs(settings.maxDurationMs)}, the longest accepted`,
      );
    const stated = audio.statedMs;
    if (stated) progress('measuring', Math.min(1, source.samples / ((stated / 1000) * PIPELINE_RATE)));
  }
  if (source.samples < PIPELINE_RATE / 100)
    throw new AudioRefusal('zero-duration', `the ${FORMAT_NAMES[audio.format]} file holds no audio`);
  const sourceLufs = source.integratedLufs();
  if (!(sourceLufs > SILENCE_LUFS))
    throw new AudioRefusal(
      'silent',
      `the recording is silent (${formatMs(source.durationMs())} without sound above ${SILENCE_LUFS} LUFS)`,
    );

  if (kept) {
    const chunks = kept;
    audio = {
      ...audio,
      async *decode() {
        yield* chunks;
      },
    };
  }
  // Cheap passes (gain, limiter, meter: no codec) find the gain that brings the limited
  // signal to the aim; that is encoded, decoded as a receiver will and measured, and the
  // aim corrected by what the codec did to loudness (a few tenths of a LU), at most three
  // times. The true-peak ceiling is enforced on the signal the encoder takes, less an
  // allowance for the codec: Opus at speech bitrates puts peaks 1-3 dB higher (EBU R128
  // s1 asks for headroom before lossy coding), which the receiver's own soft limiter
  // rounds off. Chasing the ceiling after the codec instead would limit a voice by 30 dB.
  const limitDbtp = settings.ceilingDbtp - CODEC_ALLOWANCE_DB;
  let aimLufs = settings.targetLufs;
  let gainDb = settings.targetLufs - sourceLufs;
  let encoded: Buffer = Buffer.alloc(0);
  let heard = new LoudnessMeter(PIPELINE_RATE);
  let limited = new LoudnessMeter(PIPELINE_RATE);
  for (let round = 1; round <= ENCODE_ROUNDS; round++) {
    gainDb = await findGain(audio, gainDb, aimLufs, limitDbtp, progress);
    ({ ogg: encoded, limited } = await encodePass(audio, gainDb, limitDbtp, settings, source.samples, progress));
    heard = await measureOgg(encoded);
    const off = settings.targetLufs - heard.integratedLufs();
    if (Math.abs(off) <= LOUDNESS_TOLERANCE_LU) break;
    aimLufs += off;
  }
  return {
    ogg: encoded,
    durationMs: Math.round(heard.durationMs()),
    loudnessLufs: round2(heard.integratedLufs()),
    truePeakDbtp: round2(heard.truePeakDbtp()),
    limitedTruePeakDbtp: round2(limited.truePeakDbtp()),
    source: {
      format: audio.format,
      durationMs: Math.round(source.durationMs()),
      loudnessLufs: round2(sourceLufs),
      truePeakDbtp: round2(source.truePeakDbtp()),
    },
    processing: processingKey(settings),
  };
}

/** Loudness and peak of the encoded file as a receiver decodes it. */
async function measureOgg(ogg: Buffer): Promise<LoudnessMeter> {
  const meter = new LoudnessMeter(PIPELINE_RATE);
  for await (const pcm of decodeOggOpusBytes(ogg)) meter.push(pcm);
  return meter;
}

/**
 * The gain that brings the signal, through the limiter, to `aimLufs`. Through the limiter
 * a dB more gain gives less than a dB more loudness (for a peaky voice a quarter), so each
 * next gain follows the slope the last two passes showed (the secant), in bounded steps.
 */
async function findGain(
  audio: OpenedAudio,
  startDb: number,
  aimLufs: number,
  limitDbtp: number,
  progress: Progress,
): Promise<number> {
  let gainDb = startDb;
  let previous: { gainDb: number; lufs: number } | undefined;
  for (let pass = 1; pass <= SEARCH_PASSES; pass++) {
    progress('normalising', pass / (SEARCH_PASSES + 1));
    const lufs = await meterPass(audio, gainDb, limitDbtp);
    const off = aimLufs - lufs;
    if (Math.abs(off) <= SEARCH_TOLERANCE_LU) break;
    const slope =
      previous && Math.abs(gainDb - previous.gainDb) > 0.01 ? (lufs - previous.lufs) / (gainDb - previous.gainDb) : 1;
    previous = { gainDb, lufs };
    gainDb += Math.max(-12, Math.min(12, off / Math.max(0.1, Math.min(1, slope))));
  }
  return gainDb;
}

/** Loudness of the signal after gain and limiter (no codec: a fraction of an encode's cost). */
async function meterPass(audio: OpenedAudio, gainDb: number, limitDbtp: number): Promise<number> {
  const normaliser = new Normaliser({ gain: 10 ** (gainDb / 20), sampleRate: PIPELINE_RATE, ceilingDbtp: limitDbtp });
  const meter = new LoudnessMeter(PIPELINE_RATE);
  for await (const chunk of audio.decode()) meter.push(normaliser.process(chunk));
  meter.push(normaliser.flush());
  return meter.integratedLufs();
}

async function encodePass(
  audio: OpenedAudio,
  gainDb: number,
  limitDbtp: number,
  settings: PipelineSettings,
  total: number,
  progress: Progress,
): Promise<{ ogg: Buffer; limited: LoudnessMeter }> {
  const normaliser = new Normaliser({ gain: 10 ** (gainDb / 20), sampleRate: PIPELINE_RATE, ceilingDbtp: limitDbtp });
  const encoder = new OggOpusEncoder(settings.opus, { ENCODER_SETTINGS: processingKey(settings) });
  const limited = new LoudnessMeter(PIPELINE_RATE);
  const pages: Buffer[] = [];
  let done = 0;
  const take = (pcm: Float32Array) => {
    limited.push(pcm);
    encoder.push(pcm);
    pages.push(encoder.take());
  };
  for await (const chunk of audio.decode()) {
    take(normaliser.process(chunk));
    done += chunk.length;
    progress('encoding', Math.min(1, done / total));
  }
  take(normaliser.flush());
  pages.push(encoder.end());
  return { ogg: Buffer.concat(pages), limited };
}

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1).replace(/\.0$/, '')} h`;
}
