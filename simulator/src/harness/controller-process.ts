import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './free-port.js';

// Run from TypeScript source (tests, benchmarks) the controller's source runs too, through
// tsx, so nothing stale is measured; from the compiled simulator, the compiled controller.
const fromSource = import.meta.url.endsWith('.ts');
const serverPath = fileURLToPath(
  new URL(`../../../controller/${fromSource ? 'src/server.ts' : 'dist/server.js'}`, import.meta.url),
);
const nodeArgs = fromSource ? ['--conditions=source', '--import', 'tsx', serverPath] : [serverPath];

/**
 * The real controller (`controller/src/server.ts`: API, provisioning, ingest, time
 * service, presence sweep) as a process of its own, so a scenario can kill and restart
 * it and read its memory. Its JSON log goes to a file.
 */
export class ControllerProcess {
  #process: ChildProcess | undefined;
  #log: WriteStream;

  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.HTTP_PORT}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    const child = spawn(process.execPath, nodeArgs, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#process = child;
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    const ready = await waitFor(
      async () => {
        if (child.exitCode !== null) return true;
        try {
          return (await fetch(`${this.url}/readyz`)).ok;
        } catch {
          return false;
        }
      },
      timeoutMs,
      100,
    );
    if (child.exitCode !== null || !ready)
      throw new Error(
        `the controller did not become ready at ${this.url} (${child.exitCode !== null ? `exit ${child.exitCode}` : 'timeout'}); its log ends:\n${this.tail(15)}`,
      );
  }

  /** Stops it: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#process;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  /** Resident memory of the controller process, from /proc (Linux). */
  rssBytes(): number | null {
    if (!this.#process?.pid) return null;
    try {
      const status = readFileSync(`/proc/${this.#process.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : null;
    } catch {
      return null;
    }
  }

  tail(lines: number): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }
}
