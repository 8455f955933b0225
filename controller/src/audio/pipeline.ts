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

export type PipelineStage = 'measuring' | 'encoding';
export type Progress = (stage: PipelineStage, fraction: number) => void;

export interface PreparedAudio {
  ogg: Buffer;
  durationMs: number;
  loudnessLufs: number;
  truePeakDbtp: number;
  source: { format: string; durationMs: number; loudnessLufs: number; truePeakDbtp: number };
  processing: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** How close to the target the decoded output must come before a pass is accepted. */
const LOUDNESS_TOLERANCE_LU = 0.3;
/** Peak the Opus codec adds at speech bitrates, allowed for before encoding. */
const CODEC_HEADROOM_DB = 1;
/** Passes at most to meet the loudness target (each normalises, encodes and measures). */
const MAX_PASSES = 5;
/** Further passes, if needed, that only lower the peak: the ceiling is never exceeded. */
const PEAK_PASSES = 3;
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

  // The limiter aims below the ceiling by the codec's overshoot (Opus at speech bitrates adds
  // about a dB of peak), and what receivers will hear is decoded and measured: the gain and
  // the headroom are corrected until it meets the target and the ceiling (EBU R128 s1).
  if (kept) {
    const chunks = kept;
    audio = {
      ...audio,
      async *decode() {
        yield* chunks;
      },
    };
  }
  let gainDb = settings.targetLufs - sourceLufs;
  let headroomDb = CODEC_HEADROOM_DB;
  let encoded = await encodePass(audio, gainDb, settings.ceilingDbtp - headroomDb, settings, source.samples, progress);
  let heard = await measureOgg(encoded);
  let previous: { gainDb: number; lufs: number } | undefined;
  for (let pass = 2; pass <= MAX_PASSES + PEAK_PASSES; pass++) {
    const lufs = heard.integratedLufs();
    const off = settings.targetLufs - lufs;
    const over = heard.truePeakDbtp() - settings.ceilingDbtp;
    if (Math.abs(off) <= LOUDNESS_TOLERANCE_LU && over <= 0) break;
    // Out of passes for loudness, the ceiling still binds: only more headroom from here.
    if (pass > MAX_PASSES) {
      if (over <= 0) break;
      headroomDb += over + 0.5;
      encoded = await encodePass(audio, gainDb, settings.ceilingDbtp - headroomDb, settings, source.samples, progress);
      heard = await measureOgg(encoded);
      continue;
    }
    // Through the limiter a dB more gain gives less than a dB more loudness: the next gain
    // follows the slope the last two passes showed (the secant), within sane steps.
    const slope =
      previous && Math.abs(gainDb - previous.gainDb) > 0.01 ? (lufs - previous.lufs) / (gainDb - previous.gainDb) : 1;
    previous = { gainDb, lufs };
    gainDb += Math.max(-6, Math.min(6, off / Math.max(0.2, Math.min(1, slope))));
    if (over > 0) headroomDb += over + 0.2;
    encoded = await encodePass(audio, gainDb, settings.ceilingDbtp - headroomDb, settings, source.samples, progress);
    heard = await measureOgg(encoded);
  }
  return {
    ogg: encoded,
    durationMs: Math.round(heard.durationMs()),
    loudnessLufs: round2(heard.integratedLufs()),
    truePeakDbtp: round2(heard.truePeakDbtp()),
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

async function encodePass(
  audio: OpenedAudio,
  gainDb: number,
  limitDbtp: number,
  settings: PipelineSettings,
  total: number,
  progress: Progress,
): Promise<Buffer> {
  const normaliser = new Normaliser({ gain: 10 ** (gainDb / 20), sampleRate: PIPELINE_RATE, ceilingDbtp: limitDbtp });
  const encoder = new OggOpusEncoder(settings.opus, { ENCODER_SETTINGS: processingKey(settings) });
  const pages: Buffer[] = [];
  let done = 0;
  for await (const chunk of audio.decode()) {
    encoder.push(normaliser.process(chunk));
    pages.push(encoder.take());
    done += chunk.length;
    progress('encoding', Math.min(1, done / total));
  }
  encoder.push(normaliser.flush());
  pages.push(encoder.end());
  return Buffer.concat(pages);
}

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1).replace(/\.0$/, '')} h`;
}
