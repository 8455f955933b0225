import { connect, createServer, type Server, type Socket } from 'node:net';
import { Lane, type LinkConditions, mergeConditions, validateConditions } from './link-conditions.js';
import { MAX_CONNECT_BYTES, readConnect } from './mqtt-connect.js';

export type { LinkConditions } from './link-conditions.js';

/**
 * Which connections a rule applies to: all of them, or those of the listed receivers
 * (MQTT client ids) and of receivers in the listed areas (see `areasOf`). A connection
 * whose client id is not known yet (its CONNECT has not arrived) matches only 'all'.
 */
export type Selector = 'all' | { receivers?: string[]; areas?: string[] };

export interface FaultProxyOptions {
  /** The broker. */
  target: { host: string; port: number };
  /** Default: a free port. The proxy listens on 127.0.0.1. */
  listenPort?: number;
  /** Area codes a client belongs to (for area selectors); asked once per connection. */
  areasOf?: (clientId: string) => readonly string[];
}

export interface FaultProxyStats {
  /** Bytes forwarded from clients to the broker. */
  bytesUp: number;
  /** Bytes forwarded from the broker to clients. */
  bytesDown: number;
  /** Bytes thrown away by blackholes. */
  bytesDiscarded: number;
  /** Client connections accepted. */
  accepted: number;
  /** Connections the proxy closed: random resets, resetAll, cuts, and blackholed connections when lifted. */
  resets: number;
  /** New connections refused under a cut (closed right after their CONNECT). */
  refused: number;
  /** Connections closed because their first packet was not a readable CONNECT of at most 64 KiB. */
  malformed: number;
}

interface Rule {
  id: number;
  all: boolean;
  receivers: ReadonlySet<string>;
  areas: ReadonlySet<string>;
  conditions: LinkConditions;
}

/** How often random resets are drawn. */
const RESET_TICK_MS = 100;
/** A side left alone after its peer closed is destroyed after this long, in case it never closes itself. */
const LINGER_MS = 10_000;

/**
 * An in-process TCP proxy between virtual receivers and the MQTT broker that injects
 * network faults per receiver or per area: latency, jitter, bandwidth limits, random
 * resets, blackholes and cuts. Receivers connect to `url` instead of the broker; the
 * proxy reads each client's id from its CONNECT packet, opens its own connection to the
 * broker and forwards bytes both ways under the rules in force.
 */
export class FaultProxy {
  readonly #rules: Rule[] = [];
  #nextRuleId = 1;
  /** Bumped on every rule change, so connections know their cached conditions are stale. */
  #version = 0;
  readonly #connections = new Set<ProxiedConnection>();
  readonly #stats: FaultProxyStats = {
    bytesUp: 0,
    bytesDown: 0,
    bytesDiscarded: 0,
    accepted: 0,
    resets: 0,
    refused: 0,
    malformed: 0,
  };
  #resetTicker: NodeJS.Timeout | undefined;
  #lastResetTick = 0;
  #closing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: FaultProxyOptions,
  ) {
    server.on('connection', (socket) => this.#accept(socket));
    // Accept failures (e.g. out of file descriptors) affect one would-be connection only.
    server.on('error', () => {});
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FaultProxy(server, (server.address() as { port: number }).port, options);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /**
   * Applies conditions to matching connections, present and future; returns an id to lift
   * them. Later rules override earlier ones field by field.
   */
  apply(selector: Selector, conditions: LinkConditions): number {
    validateConditions(conditions);
    const areas = selector === 'all' ? [] : (selector.areas ?? []);
    if (areas.length > 0 && !this.options.areasOf) {
      throw new Error('an area selector needs the areasOf option of the fault proxy');
    }
    const id = this.#nextRuleId++;
    this.#rules.push({
      id,
      all: selector === 'all',
      receivers: new Set(selector === 'all' ? [] : (selector.receivers ?? [])),
      areas: new Set(areas),
      conditions: { ...conditions },
    });
    this.#rulesChanged();
    return id;
  }

  /** Lifts one rule, or all of them. */
  lift(ruleId?: number): void {
    if (ruleId === undefined) this.#rules.length = 0;
    else {
      const index = this.#rules.findIndex((rule) => rule.id === ruleId);
      if (index < 0) return;
      this.#rules.splice(index, 1);
    }
    this.#rulesChanged();
  }

  /** Closes every connection (like a network-wide cut of one instant); clients reconnect. */
  resetAll(): void {
    for (const connection of [...this.#connections]) if (!connection.destroyed) this.#reset(connection);
  }

  /** Open client connections (also those whose CONNECT has not arrived yet), and how many each client id has. */
  connections(): { total: number; byClient: Map<string, number> } {
    const byClient = new Map<string, number>();
    let total = 0;
    for (const connection of this.#connections) {
      if (!connection.clientOpen || connection.destroyed) continue;
      total += 1;
      const id = connection.clientId;
      if (id !== undefined) byClient.set(id, (byClient.get(id) ?? 0) + 1);
    }
    return { total, byClient };
  }

  stats(): FaultProxyStats {
    return { ...this.#stats };
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#resetTicker);
    this.#resetTicker = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.#connections]) connection.destroy();
    await closed;
  }

  /** Conditions in force for a connection: every matching rule merged in order. */
  #conditionsFor(connection: ProxiedConnection): LinkConditions {
    let conditions: LinkConditions = {};
    for (const rule of this.#rules) {
      if (this.#matches(rule, connection)) conditions = mergeConditions(conditions, rule.conditions);
    }
    return conditions;
  }

  #matches(rule: Rule, connection: ProxiedConnection): boolean {
    if (rule.all) return true;
    const id = connection.clientId;
    if (!id) return false; // not identified yet, or an empty id (the broker assigns one): only 'all'
    return rule.receivers.has(id) || connection.areas.some((area) => rule.areas.has(area));
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#stats.accepted += 1;
    const connection = new ProxiedConnection(socket, this.options.target, {
      rulesVersion: () => this.#version,
      conditionsFor: (conn) => this.#conditionsFor(conn),
      identified: (conn) => this.#identified(conn),
      malformed: () => {
        this.#stats.malformed += 1;
      },
      forwardedUp: (bytes) => {
        this.#stats.bytesUp += bytes;
      },
      forwardedDown: (bytes) => {
        this.#stats.bytesDown += bytes;
      },
      discarded: (bytes) => {
        this.#stats.bytesDiscarded += bytes;
      },
      finished: (conn) => this.#connections.delete(conn),
    });
    this.#connections.add(connection);
  }

  /** The CONNECT has been read: refuse it under a cut, otherwise let it through to the broker. */
  #identified(connection: ProxiedConnection): boolean {
    connection.areas = connection.clientId ? (this.options.areasOf?.(connection.clientId) ?? []) : [];
    const conditions = connection.conditions();
    if (conditions.cut) {
      this.#stats.refused += 1;
      connection.destroy();
      return false;
    }
    connection.blackholed = conditions.blackhole === true;
    return true;
  }

  #rulesChanged(): void {
    this.#version += 1;
    // Connections whose client has gone stay here while their broker side is open (a
    // blackhole keeps it open), so they are judged too.
    for (const connection of [...this.#connections]) {
      if (connection.destroyed) continue;
      const conditions = connection.conditions();
      if (conditions.cut) {
        this.#reset(connection);
        continue;
      }
      if (!connection.forwarding) continue; // still waiting for its CONNECT: judged when it arrives
      // Whatever a blackhole discarded may have been half a packet: the stream is not to be trusted again.
      if (connection.blackholed && !conditions.blackhole) {
        this.#reset(connection);
        continue;
      }
      connection.blackholed = conditions.blackhole === true;
    }
    const resets = this.#rules.some((rule) => (rule.conditions.resetPerMinute ?? 0) > 0);
    if (resets && !this.#resetTicker) {
      this.#lastResetTick = performance.now();
      this.#resetTicker = setInterval(() => this.#drawResets(), RESET_TICK_MS);
      this.#resetTicker.unref();
    } else if (!resets && this.#resetTicker) {
      clearInterval(this.#resetTicker);
      this.#resetTicker = undefined;
    }
  }

  /** Random resets: each connection is reset in a tick with the probability of a Poisson process at its rate. */
  #drawResets(): void {
    const now = performance.now();
    const elapsedMinutes = (now - this.#lastResetTick) / 60_000;
    this.#lastResetTick = now;
    for (const connection of [...this.#connections]) {
      if (!connection.clientOpen || connection.destroyed) continue;
      const rate = connection.conditions().resetPerMinute ?? 0;
      if (rate > 0 && Math.random() < 1 - Math.exp(-rate * elapsedMinutes)) this.#reset(connection);
    }
  }

  #reset(connection: ProxiedConnection): void {
    this.#stats.resets += 1;
    connection.destroy();
  }
}

interface ConnectionEvents {
  rulesVersion(): number;
  conditionsFor(connection: ProxiedConnection): LinkConditions;
  identified(connection: ProxiedConnection): boolean;
  malformed(): void;
  forwardedUp(bytes: number): void;
  forwardedDown(bytes: number): void;
  discarded(bytes: number): void;
  finished(connection: ProxiedConnection): void;
}

/** Destroys a socket with a TCP RST where possible (what a reset looks like on the wire). */
function kill(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * One client connection: buffers the client's first bytes until its CONNECT is complete,
 * then opens a connection to the broker and forwards both ways through two lanes.
 */
class ProxiedConnection {
  clientId: string | undefined;
  areas: readonly string[] = [];
  blackholed = false;
  clientOpen = true;
  /** Set by destroy(); the sockets' close events follow a moment later. */
  destroyed = false;
  #upstream: Socket | undefined;
  #up: Lane | undefined;
  #down: Lane | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #cached: { version: number; conditions: LinkConditions } | undefined;
  #upstreamOpen = false;

  constructor(
    private readonly client: Socket,
    private readonly target: { host: string; port: number },
    private readonly events: ConnectionEvents,
  ) {
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (this.#up) this.#up.push(chunk);
      else this.#beforeConnect(chunk);
    });
    // A close is passed on to the other side after what is queued, except through a
    // blackhole: over a dead link the other side hears nothing and finds out by its own
    // keepalive (the proxy closes both sides when the blackhole is lifted).
    client.on('end', () => {
      if (!this.#up) {
        this.destroy(); // ended before saying who it is
      } else if (!this.blackholed) {
        this.#up.end();
      }
    });
    client.on('error', () => {
      if (this.blackholed) kill(client);
      else this.destroy();
    });
    client.on('close', () => {
      this.clientOpen = false;
      this.#down?.close(); // nobody left to deliver to
      if (!this.blackholed) {
        this.#up?.end(); // deliver what the client sent, then end towards the broker
        this.#linger(this.#upstream);
      }
      this.#finishedIfClosed();
    });
  }

  get forwarding(): boolean {
    return this.#up !== undefined;
  }

  /** Conditions in force, cached until the rules change: they are looked up for every chunk. */
  conditions(): LinkConditions {
    const version = this.events.rulesVersion();
    if (this.#cached?.version !== version) this.#cached = { version, conditions: this.events.conditionsFor(this) };
    return this.#cached.conditions;
  }

  destroy(): void {
    this.destroyed = true;
    this.#up?.close();
    this.#down?.close();
    kill(this.client);
    if (this.#upstream) kill(this.#upstream);
  }

  #beforeConnect(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const buffered = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [buffered];
    const read = readConnect(buffered);
    if (read.kind === 'incomplete' && buffered.length <= MAX_CONNECT_BYTES) return;
    if (read.kind !== 'connect') {
      this.events.malformed();
      this.destroy();
      return;
    }
    this.clientId = read.clientId;
    this.#cached = undefined; // it matches receiver and area rules from now on
    this.#pending = [];
    if (!this.events.identified(this)) return;
    this.#openUpstream(buffered);
  }

  #openUpstream(first: Buffer): void {
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.#upstream = upstream;
    this.#upstreamOpen = true;
    const conditions = () => this.conditions();
    this.#up = new Lane(this.client, upstream, conditions, {
      forwarded: this.events.forwardedUp,
      discarded: this.events.discarded,
    });
    this.#down = new Lane(upstream, this.client, conditions, {
      forwarded: this.events.forwardedDown,
      discarded: this.events.discarded,
    });
    upstream.on('data', (chunk: Buffer) => this.#down?.push(chunk));
    upstream.on('end', () => {
      if (!this.blackholed) this.#down?.end();
    });
    upstream.on('error', () => {
      if (!this.blackholed) this.destroy(); // broker unreachable or gone: the client sees its link close
    });
    upstream.on('close', () => {
      this.#upstreamOpen = false;
      this.#up?.close();
      if (!this.blackholed) {
        this.#down?.end(); // deliver what the broker sent, then end towards the client
        this.#linger(this.client);
      }
      this.#finishedIfClosed();
    });
    this.#up.push(first); // the CONNECT and anything the client sent after it
  }

  #linger(socket: Socket | undefined): void {
    if (!socket || socket.destroyed) return;
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  #finishedIfClosed(): void {
    if (!this.clientOpen && !this.#upstreamOpen) this.events.finished(this);
  }
}
