import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// From TypeScript source (tests), the controller's CLI source runs through tsx, as its
// `npm run live` does; from the compiled simulator, the compiled CLI.
const fromSource = import.meta.url.endsWith('.ts');
const cliPath = fileURLToPath(
  new URL(`../../../controller/${fromSource ? 'src/live/live-cli.ts' : 'dist/live/live-cli.js'}`, import.meta.url),
);
const nodeArgs = fromSource ? ['--conditions=source', '--import', 'tsx', cliPath] : [cliPath];

export interface LiveCliPush {
  controllerUrl: string;
  /** An API token of the speaking user (POST /auth/tokens). */
  token: string;
  wavPath: string;
  /** Area codes or ids. */
  areas: string[];
  latencyMs?: number;
  prelude?: 'none' | 'chime';
  title?: string;
  /** Gives up (kills the CLI) after this long; default 120 s. */
  timeoutMs?: number;
}

export interface LiveCliResult {
  sessionId: string;
  /** True time the CLI printed that the session was opened. */
  openedSeenAt: number;
  stdout: string;
}

/** The session id the CLI prints once it has opened the session. */
const OPENED = /^session ([0-9a-f-]{36}) opened/m;

/**
 * Speaks a WAV file live the way a user does: the controller's `loa-live push` CLI
 * (`npm run live --workspace controller -- push …`) with an API token, as a child
 * process. Resolves when it has exited 0; rejects with its output otherwise.
 */
export function pushLiveWithCli(push: LiveCliPush): Promise<LiveCliResult> {
  const args = [
    ...nodeArgs,
    'push',
    push.wavPath,
    '--areas',
    push.areas.join(','),
    '--url',
    push.controllerUrl,
    '--token',
    push.token,
    ...(push.latencyMs !== undefined ? ['--latency', String(push.latencyMs)] : []),
    ...(push.prelude ? ['--prelude', push.prelude] : []),
    ...(push.title ? ['--title', push.title] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let openedSeenAt = 0;
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
    if (!openedSeenAt && OPENED.test(stdout)) openedSeenAt = Date.now();
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString();
  });
  return new Promise((resolve, reject) => {
    const timeoutMs = push.timeoutMs ?? 120_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`the live CLI could not be started: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const sessionId = OPENED.exec(stdout)?.[1];
      if (code === 0 && sessionId) return resolve({ sessionId, openedSeenAt, stdout });
      const how = signal
        ? `was killed (${signal}${signal === 'SIGKILL' ? `, after ${timeoutMs} ms` : ''})`
        : `exited ${code}`;
      reject(new Error(`the live CLI ${how}; it said:\n${stdout}${stderr}`.trimEnd()));
    });
  });
}
