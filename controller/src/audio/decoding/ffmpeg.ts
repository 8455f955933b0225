import { spawn } from 'node:child_process';
import { AudioRefusal } from './audio-refusal.js';
import { PIPELINE_RATE } from './resample.js';

/** Whether `ffmpeg` runs here (checked once per command name). */
const available = new Map<string, Promise<boolean>>();
/** The first audio stream, as the pipeline's 48 kHz mono float PCM on stdout (uploads and relays alike). */
export const PCM_OUTPUT_ARGS: readonly string[] = [
  '-map',
  '0:a:0',
  '-vn',
  '-ac',
  '1',
  '-ar',
  String(PIPELINE_RATE),
  '-f',
  'f32le',
  'pipe:1',
];

export function hasFfmpeg(command = 'ffmpeg'): Promise<boolean> {
  let found = available.get(command);
  if (!found) {
    found = new Promise((resolve) => {
      const child = spawn(command, ['-hide_banner', '-version'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('exit', (code) => resolve(code === 0));
    });
    available.set(command, found);
  }
  return found;
}

/** "Duration: 00:01:02.50" as ffmpeg reports its input; undefined when it cannot tell. */
export function statedDurationMs(stderr: string): number | undefined {
  const match = /Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (!match) return undefined;
  const ms = (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
  return ms > 0 ? Math.round(ms) : undefined;
}

/** The lines of ffmpeg's report that say what went wrong (it also reports the input's streams). */
function failureOf(stderr: string, code: number | null): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error|invalid|could not|cannot|no such|not found|unknown|failed/i.test(l));
  return (errors.length > 0 ? errors : lines).slice(-2).join('; ') || `exit code ${code}`;
}

/**
 * Decodes any file ffmpeg knows to mono 48 kHz float PCM, as it goes (ffmpeg's own
 * resampler and downmix). The file is read by path: M4A keeps its index at the end,
 * which a pipe could not seek to. A failure says what ffmpeg said.
 */
export async function* decodeWithFfmpeg(
  path: string,
  command = 'ffmpeg',
  onDuration?: (ms: number) => void,
): AsyncGenerator<Float32Array> {
  const child = spawn(command, ['-nostdin', '-hide_banner', '-v', 'error', '-i', path, ...PCM_OUTPUT_ARGS], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let told = false;
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16_000) stderr += d.toString();
    const ms = told ? undefined : statedDurationMs(stderr);
    if (ms !== undefined) {
      told = true;
      onDuration?.(ms);
    }
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  let carry: Buffer = Buffer.alloc(0);
  try {
    for await (const data of child.stdout as AsyncIterable<Buffer>) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, data]) : data;
      const whole = bytes.length - (bytes.length % 4);
      carry = bytes.subarray(whole);
      if (whole === 0) continue;
      // Copied: the pipe's buffer is reused and rarely 4-byte aligned.
      const samples = new Float32Array(whole / 4);
      Buffer.from(samples.buffer).set(bytes.subarray(0, whole));
      yield samples;
    }
    const code = await exited;
    if (code !== 0) {
      const said = failureOf(stderr, code);
      throw new AudioRefusal('corrupt', `the file could not be decoded (ffmpeg: ${said.slice(0, 300)})`);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
