import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AssetRef } from '@loa/protocols';

/** What the server does to one request for a file (each trick is used once, in order). */
export type Trick =
  /** Sends this many body bytes, then drops the connection. */
  | { cutAfter: number }
  /** Answers 200 with the whole file whatever the Range. */
  | { ignoreRange: true }
  /** Flips one byte of the body. */
  | { corrupt: true }
  /** Answers with this status and no file. */
  | { status: number }
  /** Sends this many body bytes, then nothing more until the client goes away. */
  | { stallAfter: number }
  /** Serves these bytes instead of the file, without a Content-Length (chunked). */
  | { body: Buffer }
  /** Redirects to this URL. */
  | { redirect: string };

export interface Served {
  path: string;
  range?: string;
  authorization?: string;
  /** Body bytes written for this request. */
  served: number;
}

/**
 * A file server on 127.0.0.1 with Range support (`bytes=N-`) that misbehaves on request:
 * it serves `<prefix>/assets/<sha256>` and counts every body byte it sends.
 */
export class AssetServer {
  readonly files = new Map<string, Buffer>();
  readonly tricks = new Map<string, Trick[]>();
  readonly requests: Served[] = [];
  /** Delay between 8 KiB chunks (0: send at once). */
  chunkDelayMs = 0;
  open = 0;
  maxOpen = 0;
  url = '';

  private constructor(
    private readonly server: Server,
    readonly prefix: string,
    readonly requireAuthorization?: string,
  ) {}

  static async start(options: { prefix?: string; authorization?: string } = {}): Promise<AssetServer> {
    let self: AssetServer | undefined;
    const server = createServer((request, response) => self?.handle(request, response));
    self = new AssetServer(server, options.prefix ?? '', options.authorization);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return self;
  }

  /** A new random file of this size, and its reference (a path on the server). */
  add(bytes: number, data: Buffer = randomBytes(bytes)): AssetRef {
    const sha256 = createHash('sha256').update(data).digest('hex');
    this.files.set(sha256, data);
    return { sha256, url: `/assets/${sha256}`, bytes, durationMs: 1000, mime: 'audio/ogg; codecs=opus' };
  }

  trick(sha: string, ...tricks: Trick[]): void {
    this.tricks.set(sha, [...(this.tricks.get(sha) ?? []), ...tricks]);
  }

  get served(): number {
    return this.requests.reduce((sum, r) => sum + r.served, 0);
  }

  requestsFor(sha: string): Served[] {
    return this.requests.filter((r) => r.path.endsWith(`/${sha}`));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '';
    const record: Served = {
      path,
      served: 0,
      ...(request.headers.range ? { range: request.headers.range } : {}),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    };
    this.requests.push(record);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    // Done once the last byte is handed over: the client may ask for the next file as soon as it has it.
    let done = false;
    const finish = () => {
      if (!done) this.open--;
      done = true;
    };
    response.on('close', finish);
    response.on('prefinish', finish);

    if (this.requireAuthorization && request.headers.authorization !== this.requireAuthorization)
      return void response.writeHead(401).end();
    const sha = path.startsWith(`${this.prefix}/assets/`) ? path.slice(`${this.prefix}/assets/`.length) : '';
    const file = this.files.get(sha);
    const trick = this.tricks.get(sha)?.shift();
    if (trick && 'status' in trick) return void response.writeHead(trick.status).end();
    if (trick && 'redirect' in trick) return void response.writeHead(302, { location: trick.redirect }).end();
    if (!file) return void response.writeHead(404).end();
    const data = trick && 'body' in trick ? trick.body : file;

    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const length = (n: number) => (trick && 'body' in trick ? {} : { 'content-length': n });
    let body = data;
    if (range && !(trick && 'ignoreRange' in trick)) {
      const start = Number(range[1]);
      if (start >= data.length)
        return void response.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      body = data.subarray(start);
      response.writeHead(206, {
        ...length(body.length),
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else response.writeHead(200, length(data.length));
    if (trick && 'corrupt' in trick) {
      body = Buffer.from(body);
      body[Math.floor(body.length / 2)] = (body[Math.floor(body.length / 2)] as number) ^ 0xff;
    }
    const limit =
      trick && 'cutAfter' in trick ? trick.cutAfter : trick && 'stallAfter' in trick ? trick.stallAfter : body.length;
    const then = trick && 'cutAfter' in trick ? 'cut' : trick && 'stallAfter' in trick ? 'stall' : 'end';
    this.send(response, record, body.subarray(0, limit), then, finish);
  }

  private send(
    response: ServerResponse,
    record: Served,
    body: Buffer,
    then: 'cut' | 'stall' | 'end',
    finish: () => void,
  ): void {
    const chunk = this.chunkDelayMs > 0 ? 8192 : body.length;
    let at = 0;
    const next = () => {
      if (response.destroyed) return;
      if (at >= body.length) {
        if (then === 'end') response.end();
        else if (then === 'cut') response.socket?.destroy();
        return; // stall: leave it open
      }
      const piece = body.subarray(at, at + chunk);
      at += piece.length;
      record.served += piece.length;
      if (at >= body.length && then === 'end') finish();
      response.write(piece, () => {
        if (this.chunkDelayMs > 0) setTimeout(next, this.chunkDelayMs);
        else next();
      });
    };
    next();
  }
}
