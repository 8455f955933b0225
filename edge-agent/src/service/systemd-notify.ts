import { execFile } from 'node:child_process';

/**
 * Tells systemd the agent is ready and alive (Type=notify, WatchdogSec). Node cannot send
 * on the notify socket (a Unix datagram socket), so the `systemd-notify` helper does;
 * outside systemd (no NOTIFY_SOCKET) nothing happens.
 */
export class SystemdNotifier {
  readonly enabled: boolean;
  readonly watchdogMs: number | undefined;

  constructor(env: Record<string, string | undefined> = process.env) {
    this.enabled = Boolean(env.NOTIFY_SOCKET);
    const usec = Number(env.WATCHDOG_USEC);
    this.watchdogMs = this.enabled && usec > 0 ? usec / 1000 : undefined;
  }

  ready(status: string): Promise<void> {
    return this.#send(['--ready', `--status=${status}`]);
  }

  alive(): Promise<void> {
    return this.#send(['WATCHDOG=1']);
  }

  status(status: string): Promise<void> {
    return this.#send([`--status=${status}`]);
  }

  #send(args: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve) => {
      execFile('systemd-notify', args, { timeout: 5000 }, () => resolve());
    });
  }
}
