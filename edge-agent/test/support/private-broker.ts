import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

/** A free loopback port (nothing listens on it once this resolves). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A Mosquitto of the test's own on a free loopback port, so a test can stop and restart
 * "the broker" (an outage at airtime) without disturbing other tests on the shared one.
 */
export class PrivateBroker {
  #process: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly config: string,
  ) {}

  static async start(): Promise<PrivateBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'loa-agent-broker-'));
    const port = await freePort();
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ''].join('\n'));
    chmodSync(dir, 0o755);
    chmodSync(config, 0o644);
    const broker = new PrivateBroker(port, config);
    await broker.up();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.#process = spawn('mosquitto', ['-c', this.config], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      try {
        const probe = await mqtt.connectAsync(this.url, {
          protocolVersion: 5,
          reconnectPeriod: 0,
          connectTimeout: 500,
        });
        await probe.endAsync();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new Error('private mosquitto did not start');
  }

  async down(): Promise<void> {
    const process = this.#process;
    if (!process || process.exitCode !== null) return;
    const exited = new Promise((resolve) => process.once('exit', resolve));
    process.kill('SIGKILL');
    await exited;
  }
}
