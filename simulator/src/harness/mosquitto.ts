import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, waitFor } from './free-port.js';

/**
 * A Mosquitto of the run's own on a free loopback port: scenarios and benchmarks restart
 * "the broker" and count connections without disturbing anything on the shared one.
 * Same port across restarts, no persistence (a restart loses every session, as a
 * crashed broker would), no connection limit.
 */
/** The account the harness itself uses on a broker that checks (readiness, observing, injecting). */
export const PROBE_USER = 'sim-observer';
export const PROBE_PASSWORD = 'sim-observer-password';

export class Mosquitto {
  #process: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    /** Where the readiness probe connects (an account of its own when the broker checks). */
    private readonly probeUrl?: string,
  ) {}

  /**
   * `auth`: the password and ACL files' contents (as the controller's broker:config writes
   * them); without it anyone may connect and publish anything.
   */
  static async start(auth?: { passwords: string; acl: string }): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'loa-sim-broker-'));
    const port = await freePort();
    const config = join(dir, 'mosquitto.conf');
    if (auth) {
      writeFileSync(join(dir, 'passwords'), auth.passwords, { mode: 0o644 });
      writeFileSync(join(dir, 'acl'), auth.acl, { mode: 0o644 });
    }
    writeFileSync(
      config,
      [
        `listener ${port} 127.0.0.1`,
        ...(auth
          ? ['allow_anonymous false', `password_file ${join(dir, 'passwords')}`, `acl_file ${join(dir, 'acl')}`]
          : ['allow_anonymous true']),
        'persistence false',
        'max_connections -1',
        // Room for a receiver's queued commands while it reconnects.
        'max_queued_messages 1000',
        'log_dest none',
        '',
      ].join('\n'),
    );
    // Mosquitto drops to its own user when started as root: it must read its config.
    chmodSync(dir, 0o755);
    chmodSync(config, 0o644);
    const broker = new Mosquitto(
      port,
      dir,
      auth ? `mqtt://${PROBE_USER}:${PROBE_PASSWORD}@127.0.0.1:${port}` : undefined,
    );
    await broker.up();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  async up(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    this.#process = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    const answered = await waitFor(
      async () => {
        try {
          const probe = await mqtt.connectAsync(this.probeUrl ?? this.url, {
            protocolVersion: 5,
            reconnectPeriod: 0,
            connectTimeout: 500,
          });
          await probe.endAsync();
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      25,
    );
    if (!answered) throw new Error(`mosquitto did not answer on ${this.url} within ${timeoutMs} ms (is it installed?)`);
  }

  /** Stops the broker dead (SIGKILL: no goodbyes, as a crash or power cut would). */
  async down(): Promise<void> {
    const process = this.#process;
    if (!process || !this.running) return;
    const exited = new Promise((resolve) => process.once('exit', resolve));
    process.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
