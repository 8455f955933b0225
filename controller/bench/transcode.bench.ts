// How fast the controller turns a recording into a broadcast asset, and how many bytes an
// hour of it costs. Input: N minutes of real Vietnamese speech (espeak-ng, a few sentences
// looped by ffmpeg) as a 48 kHz mono 16-bit WAV. Measured, --runs times, interleaved:
//
//   - our encoder alone (OggOpusEncoder: node-opus, 24 kbit/s, 20 ms, FEC for 10 % loss,
//     VOIP/voice, complexity 10) on the PCM already in memory: `samplesMs`;
//   - the baseline, Debian's `opusenc` CLI with the same settings on the same WAV, timed as
//     a child process (wall time, start-up and WAV reading included): `baselineSamplesMs`;
//   - the whole pipeline, `prepareAudio` on the WAV (ffmpeg decode, loudness measurement,
//     normalise + true-peak limit + encode passes, each verified by decoding): in `extra`,
//     with where its time went.
//
// Bytes per broadcast hour of each output, against 128 kbit/s MP3 (57.6 MB/h nominal, and
// the same WAV actually encoded by ffmpeg's libmp3lame), are in `extra` too.
//
//   npm run bench -- transcode [--minutes 10] [--runs 5] [--pipeline-runs 2]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchOutcome } from '../../scripts/bench.js';
import { summarise } from '../../simulator/src/metrics/latency.js';
import { openAudio } from '../src/audio/decoding/decode-file.js';
import { decodeWithFfmpeg } from '../src/audio/decoding/ffmpeg.js';
import { decodeOggOpusBytes } from '../src/audio/decoding/npm-decoders.js';
import { DEFAULT_OPUS, OggOpusEncoder } from '../src/audio/encoding/opus-encoder.js';
import { LoudnessMeter, Normaliser } from '../src/audio/loudness/index.js';
import { DEFAULT_PIPELINE, type PreparedAudio, prepareAudio } from '../src/audio/pipeline.js';

const RATE = 48_000;
/** 128 kbit/s for an hour, in bytes: the MP3 the project's radio stations would otherwise send. */
const MP3_128K_BYTES_PER_HOUR = (128_000 / 8) * 3600;

/** Announcements of the kind a commune airs, read by espeak-ng's Vietnamese voice. */
const SENTENCES = [
  'Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng mở rộng cho trẻ em dưới năm tuổi trong tháng này.',
  'Đề nghị các hộ gia đình đưa con em đến trạm y tế xã vào sáng thứ Bảy, mang theo sổ tiêm chủng.',
  'Trung tâm khí tượng thủy văn cho biết, trong hai ngày tới trên địa bàn tỉnh có mưa to đến rất to.',
  'Bà con không đi qua các ngầm tràn, suối sâu khi nước đang lên, không thả trâu bò gần bờ sông.',
  'Các thôn bản chủ động kiểm tra nhà ở, gia cố mái nhà và chuẩn bị lương thực, nước uống, đèn pin.',
  'Ban chỉ huy phòng chống thiên tai xã trực hai mươi bốn trên hai mươi bốn giờ, số điện thoại đã được dán tại nhà văn hóa.',
  'Hội nông dân tổ chức lớp tập huấn kỹ thuật trồng lúa nước và phòng trừ sâu bệnh vào chiều thứ Năm.',
  'Kính mời đại diện các hộ gia đình đến dự họp thôn lúc bảy giờ tối nay tại nhà văn hóa thôn.',
];

function intOption(options: Record<string, string>, name: string, fallback: number): number {
  const value = Number(options[name] ?? fallback);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** Fails with what to install when a command the benchmark compares against is missing. */
function requireCommand(command: string, args: string[], packageName: string): string {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    throw new Error(
      `transcode: \`${command}\` is needed and ${probe.error ? 'not installed' : `failed (exit ${probe.status})`}; ` +
        `install the Debian package ${packageName} (scripts/setup.sh does)`,
    );
  return `${probe.stdout}${probe.stderr}`.split('\n')[0]?.trim() ?? command;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}): ${stderr.trim().slice(-500)}`));
    });
  });
}

/** Real speech, `seconds` long, 48 kHz mono 16-bit, no metadata chunks (opusenc warns of LIST). */
async function speechWav(dir: string, seconds: number): Promise<string> {
  const sentences = join(dir, 'sentences.wav');
  const spoken = spawnSync('espeak-ng', ['-v', 'vi', '-w', sentences, SENTENCES.join(' ')], { encoding: 'utf8' });
  if (spoken.error || spoken.status !== 0)
    throw new Error(
      `transcode: espeak-ng could not speak the input (${spoken.error?.message ?? spoken.stderr}); install espeak-ng`,
    );
  const wav = join(dir, 'input.wav');
  await run('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-stream_loop',
    '-1',
    '-i',
    sentences,
    '-t',
    String(seconds),
    '-ar',
    String(RATE),
    '-ac',
    '1',
    '-c:a',
    'pcm_s16le',
    '-map_metadata',
    '-1',
    '-fflags',
    '+bitexact',
    wav,
  ]);
  return wav;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid)
    ? ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
    : (sorted[Math.floor(mid)] as number);
}
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
/** × real-time: seconds of audio per second of wall time. */
const realtime = (audioSeconds: number, ms: number) => round(audioSeconds / (ms / 1000));
const perHour = (bytes: number, audioSeconds: number) => Math.round((bytes / audioSeconds) * 3600);

/** The encoder alone, fed the chunks the ffmpeg decoder yields, as the pipeline feeds it. */
function encodeOnly(chunks: Float32Array[]): { ms: number; ogg: Buffer } {
  const started = performance.now();
  const encoder = new OggOpusEncoder(DEFAULT_PIPELINE.opus);
  const pages: Buffer[] = [];
  for (const chunk of chunks) {
    encoder.push(chunk);
    pages.push(encoder.take());
  }
  pages.push(encoder.end());
  const ogg = Buffer.concat(pages);
  return { ms: performance.now() - started, ogg };
}

interface PipelineRun {
  ms: number;
  prepared: PreparedAudio;
  /** Encodes (normalise, limit, encode, then decode and measure what came out). */
  passes: number;
  /** Decodes of the source by ffmpeg: measuring, each search pass and each encode (over 3 min). */
  sourceDecodes: number;
  /** Wall time by the stage the pipeline reported (an encode's verification counts as encoding). */
  split: Record<string, number>;
}

/** prepareAudio on the WAV, its wall time split by the stages it reports. */
async function pipeline(wav: string): Promise<PipelineRun> {
  const started = performance.now();
  const opened = await openAudio(wav, { decoder: 'ffmpeg' });
  let sourceDecodes = 0;
  const decode = opened.decode;
  opened.decode = () => {
    sourceDecodes++;
    return decode();
  };
  // Each encode reports its progress from near 0 up to 1: a drop starts a new one.
  let passes = 0;
  let lastFraction = Number.POSITIVE_INFINITY;
  const split: Record<string, number> = {};
  let stage = 'opening';
  let since = started;
  const prepared = await prepareAudio(opened, DEFAULT_PIPELINE, (now, fraction) => {
    if (now !== stage) {
      const at = performance.now();
      split[stage] = (split[stage] ?? 0) + at - since;
      stage = now;
      since = at;
    }
    if (now !== 'encoding') return;
    if (fraction < lastFraction) passes++;
    lastFraction = fraction;
  });
  const finished = performance.now();
  split[stage] = (split[stage] ?? 0) + finished - since;
  return { ms: finished - started, prepared, passes, sourceDecodes, split };
}

async function drain(source: AsyncGenerator<Float32Array>): Promise<Float32Array[]> {
  const chunks: Float32Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

export default async function transcode(options: Record<string, string>): Promise<BenchOutcome> {
  const minutes = intOption(options, 'minutes', 10);
  const runs = Math.round(intOption(options, 'runs', 5));
  const pipelineRuns = Math.round(intOption(options, 'pipeline-runs', Math.min(runs, 2)));
  const ffmpegVersion = requireCommand('ffmpeg', ['-hide_banner', '-version'], 'ffmpeg');
  const opusencVersion = requireCommand('opusenc', ['--version'], 'opus-tools');
  const say = (line: string) => console.log(`[transcode] ${line}`);

  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-transcode-'));
  try {
    const wav = await speechWav(dir, minutes * 60);
    const chunks = await drain(decodeWithFfmpeg(wav));
    const samples = chunks.reduce((n, c) => n + c.length, 0);
    const audioSeconds = samples / RATE;
    say(`input: ${round(audioSeconds / 60, 2)} min of espeak-ng speech, ${statSync(wav).size} bytes of WAV`);

    // The same settings as OggOpusEncoder: opusenc has no flag for the VOIP application or
    // in-band FEC (--expect-loss only sets the loss percentage), so those go as raw CTLs:
    // OPUS_SET_APPLICATION(OPUS_APPLICATION_VOIP) and OPUS_SET_INBAND_FEC(1). Constrained
    // VBR is libopus's default, which node-opus keeps; opusenc's default is unconstrained.
    const opus = DEFAULT_OPUS;
    const opusOut = join(dir, 'opusenc.opus');
    const opusencArgs = [
      '--quiet',
      '--bitrate',
      String(opus.bitrate / 1000),
      '--framesize',
      String(opus.frameMs),
      '--expect-loss',
      String(opus.expectedLossPercent),
      '--speech',
      '--comp',
      '10',
      '--cvbr',
      '--set-ctl-int',
      '4000=2048',
      '--set-ctl-int',
      `4012=${opus.expectedLossPercent > 0 ? 1 : 0}`,
      wav,
      opusOut,
    ];

    // One of each unmeasured first: the JIT warms the encoder's loop, the page cache the WAV.
    encodeOnly(chunks);
    await run('opusenc', opusencArgs);

    const samplesMs: number[] = [];
    const baselineSamplesMs: number[] = [];
    let ogg: Buffer = Buffer.alloc(0);
    for (let i = 0; i < runs; i++) {
      const ours = encodeOnly(chunks);
      ogg = ours.ogg;
      samplesMs.push(ours.ms);
      const theirs = await run('opusenc', opusencArgs);
      baselineSamplesMs.push(theirs);
      say(
        `run ${i + 1}/${runs}: OggOpusEncoder ${Math.round(ours.ms)} ms (${realtime(audioSeconds, ours.ms)}× real-time), ` +
          `opusenc ${Math.round(theirs)} ms (${realtime(audioSeconds, theirs)}×)`,
      );
    }
    const opusencBytes = statSync(opusOut).size;
    writeFileSync(join(dir, 'ours.opus'), ogg);

    // Each stage of the pipeline alone, once, on the PCM in memory (except the decode).
    let t = performance.now();
    await drain(decodeWithFfmpeg(wav));
    const decodeMs = performance.now() - t;
    t = performance.now();
    const meter = new LoudnessMeter(RATE);
    for (const chunk of chunks) meter.push(chunk);
    const meterMs = performance.now() - t;
    t = performance.now();
    const normaliser = new Normaliser({ gain: 10 ** ((-16 - meter.integratedLufs()) / 20), sampleRate: RATE });
    for (const chunk of chunks) normaliser.process(chunk);
    normaliser.flush();
    const normaliseMs = performance.now() - t;
    t = performance.now();
    const heard = new LoudnessMeter(RATE);
    for await (const pcm of decodeOggOpusBytes(ogg)) heard.push(pcm);
    const verifyDecodeMs = performance.now() - t;

    const pipelineRunsDone: PipelineRun[] = [];
    for (let i = 0; i < pipelineRuns; i++) {
      const p = await pipeline(wav);
      pipelineRunsDone.push(p);
      say(
        `pipeline ${i + 1}/${pipelineRuns}: ${Math.round(p.ms)} ms (${realtime(audioSeconds, p.ms)}× real-time), ` +
          `${p.passes} encodes, ${p.prepared.loudnessLufs} LUFS, ${p.prepared.truePeakDbtp} dBTP`,
      );
    }
    const last = pipelineRunsDone.at(-1) as PipelineRun;

    // MP3 at 128 kbit/s of the same WAV, once: what it actually weighs.
    const mp3Out = join(dir, 'mp3-128k.mp3');
    const mp3Ms = await run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      wav,
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
      mp3Out,
    ]);
    const mp3Bytes = statSync(mp3Out).size;

    const oursPerHour = perHour(ogg.length, audioSeconds);
    const pipelinePerHour = perHour(last.prepared.ogg.length, audioSeconds);
    const opusencPerHour = perHour(opusencBytes, audioSeconds);
    const mp3PerHour = perHour(mp3Bytes, audioSeconds);
    const pipelineMs = pipelineRunsDone.map((p) => p.ms);
    return {
      n: runs,
      samplesMs,
      baselineSamplesMs,
      okFraction: null,
      extra: {
        input: { minutes, audio_seconds: round(audioSeconds, 2), source: 'espeak-ng -v vi, looped', rate: RATE },
        settings: { ...opus, application: 'voip', signal: 'voice', complexity: 10, vbr: 'constrained' },
        opusenc_command: `opusenc ${opusencArgs.slice(0, -2).join(' ')} input.wav out.opus`,
        tools: { opusenc: opusencVersion, ffmpeg: ffmpegVersion, node_opus_libopus: '1.1.2 (bundled, built -O3)' },
        encoder_x_realtime_p50: realtime(audioSeconds, median(samplesMs)),
        opusenc_x_realtime_p50: realtime(audioSeconds, median(baselineSamplesMs)),
        encoder_vs_opusenc_time_p50: round(median(samplesMs) / median(baselineSamplesMs), 3),
        pipeline: {
          runs: pipelineRuns,
          ms: summarise(pipelineMs),
          x_realtime_p50: realtime(audioSeconds, median(pipelineMs)),
          encode_passes: pipelineRunsDone.map((p) => p.passes),
          source_decodes: pipelineRunsDone.map((p) => p.sourceDecodes),
          split_ms_last_run: Object.fromEntries(Object.entries(last.split).map(([k, v]) => [k, Math.round(v)])),
          result: {
            loudness_lufs: last.prepared.loudnessLufs,
            true_peak_dbtp: last.prepared.truePeakDbtp,
            source_lufs: last.prepared.source.loudnessLufs,
            source_true_peak_dbtp: last.prepared.source.truePeakDbtp,
          },
        },
        stages_alone_ms: {
          ffmpeg_decode: Math.round(decodeMs),
          loudness_meter: Math.round(meterMs),
          normalise_and_limit: Math.round(normaliseMs),
          encode: Math.round(median(samplesMs)),
          verify_decode_and_meter: Math.round(verifyDecodeMs),
        },
        stages_alone_x_realtime: {
          ffmpeg_decode: realtime(audioSeconds, decodeMs),
          loudness_meter: realtime(audioSeconds, meterMs),
          normalise_and_limit: realtime(audioSeconds, normaliseMs),
          encode: realtime(audioSeconds, median(samplesMs)),
          verify_decode_and_meter: realtime(audioSeconds, verifyDecodeMs),
        },
        bytes_per_hour: {
          encoder: oursPerHour,
          pipeline: pipelinePerHour,
          opusenc: opusencPerHour,
          mp3_128k_nominal: MP3_128K_BYTES_PER_HOUR,
          mp3_128k_measured: mp3PerHour,
        },
        kbit_per_s: {
          encoder: round((ogg.length * 8) / audioSeconds / 1000, 2),
          pipeline: round((last.prepared.ogg.length * 8) / audioSeconds / 1000, 2),
          opusenc: round((opusencBytes * 8) / audioSeconds / 1000, 2),
          mp3_128k_measured: round((mp3Bytes * 8) / audioSeconds / 1000, 2),
        },
        ratio_bytes_vs_mp3_128k_nominal: {
          encoder: round(oursPerHour / MP3_128K_BYTES_PER_HOUR, 4),
          pipeline: round(pipelinePerHour / MP3_128K_BYTES_PER_HOUR, 4),
          opusenc: round(opusencPerHour / MP3_128K_BYTES_PER_HOUR, 4),
        },
        ratio_bytes_vs_mp3_128k_measured: {
          encoder: round(oursPerHour / mp3PerHour, 4),
          pipeline: round(pipelinePerHour / mp3PerHour, 4),
          opusenc: round(opusencPerHour / mp3PerHour, 4),
        },
        ratio_bytes_encoder_vs_opusenc: round(oursPerHour / opusencPerHour, 3),
        mp3_encode_x_realtime: realtime(audioSeconds, mp3Ms),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
