import { createServer, type Server, Socket } from 'node:net';
import { freePort } from '../support/private-broker.js';

/**
 * A TCP relay on a loopback port in front of the broker: closed, connections are refused
 * (a broker out of reach); `cut()` drops every relayed connection on both sides without
 * an MQTT DISCONNECT, as a dying 3G link does, so the broker sends the last will.
 */
export class TcpGate {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  connections = 0;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async create(targetPort: number): Promise<TcpGate> {
    return new TcpGate(await freePort(), targetPort);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      this.connections++;
      const upstream = new Socket();
      upstream.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** The link goes dead without closing: connections stay open, nothing gets through. */
  freeze(): void {
    for (const s of this.#sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /** Drops every relayed connection (both sides), leaving the gate as it is. */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  /** Stops listening and drops every connection: the broker is out of reach. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls (on real time) until the condition holds; throws with `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A small seeded PRNG (mulberry32), so jitter is random yet repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
