// One worker process of FleetWorkers: a Fleet for its share of the receivers, driven by
// calls over the IPC channel (see worker-messages.ts). Started by FleetWorkers only
// (child_process.fork with an IPC channel); it prints nothing to stdout: everything it
// has to say goes through IPC.
import mqtt, { type MqttClient } from 'mqtt';
import { Fleet } from './fleet.js';
import type { VirtualReceiverSpec } from './virtual-receiver.js';
import {
  isWorkerRequest,
  type WorkerCalls,
  type WorkerEvent,
  type WorkerLogEntry,
  type WorkerOp,
  type WorkerRequest,
} from './worker-messages.js';

/** How long the goodbyes may take when the parent has gone without saying stop. */
const ORPHAN_GOODBYE_MS = 3000;
/** Raw probe clients connecting at once. */
const RAW_CONCURRENCY = 50;

if (!process.send) {
  console.error('fleet-worker: started by FleetWorkers (child_process.fork with an IPC channel), not by hand');
  process.exit(2);
}

// The parent governs the worker: a Ctrl-C (sent to the whole process group) or a TERM for
// the service must not kill the receivers before the parent has asked each to say goodbye.
// If the parent itself goes, the IPC channel closes and the worker leaves (below).
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

let fleet: Fleet | undefined;
const specs = new Map<string, VirtualReceiverSpec>();
const poweredOff = new Set<string>();
/** Power operations on one receiver run one after another. */
const chains = new Map<string, Promise<unknown>>();
const probes = new Map<string, { clients: MqttClient[]; arrivals: number[]; closed: boolean }>();
const logs: WorkerLogEntry[] = [];
let flushScheduled = false;
let exiting = false;

function post(event: WorkerEvent, then?: () => void): void {
  if (process.connected && process.send) process.send(event, undefined, {}, () => then?.());
  else then?.();
}

/** Sends the plays and logs gathered so far. */
function flush(): void {
  flushScheduled = false;
  if (fleet && fleet.plays.length > 0) post({ type: 'plays', records: fleet.takePlays() });
  if (fleet && fleet.lives.length > 0) post({ type: 'lives', records: fleet.takeLives() });
  if (logs.length > 0) post({ type: 'logs', entries: logs.splice(0) });
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

/** Any other message: what happened before it goes first. */
function send(event: WorkerEvent, then?: () => void): void {
  flush();
  post(event, then);
}

function specOf(receiverId: string): VirtualReceiverSpec {
  const spec = specs.get(receiverId);
  if (!spec || !fleet) throw new Error(`no receiver ${receiverId} in this worker (pid ${process.pid})`);
  return spec;
}

function serial<T>(receiverId: string, operation: () => Promise<T>): Promise<T> {
  const next = (chains.get(receiverId) ?? Promise.resolve()).then(operation, operation);
  chains.set(
    receiverId,
    next.catch(() => {}),
  );
  return next;
}

/** An MQTT client that is connected, or a rejection (no retries: a probe must not hide failures). */
function connectProbeClient(url: string, clients: MqttClient[]): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 20_000 });
  clients.push(client);
  client.on('error', () => {}); // a probe client that fails is seen as missing arrivals, never a crash
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error) => reject(error));
    client.once('close', () => reject(new Error(`raw subscriber could not connect to ${url}`)));
  });
}

async function closeProbe(probe: string): Promise<void> {
  const entry = probes.get(probe);
  probes.delete(probe);
  if (!entry) return;
  entry.closed = true;
  await Promise.all(entry.clients.map((c) => c.endAsync(true).catch(() => {})));
}

type Handlers = { [K in WorkerOp]: (args: WorkerCalls[K]['args']) => Promise<WorkerCalls[K]['result']> };

const handlers: Handlers = {
  async start({ specs: mine, settings, concurrency, forwardLogs }) {
    if (fleet) throw new Error('this worker has started its receivers already');
    for (const spec of mine) specs.set(spec.receiverId, spec);
    fleet = new Fleet({
      ...settings,
      record: () => scheduleFlush(),
      recordLive: () => scheduleFlush(),
      ...(forwardLogs
        ? {
            log: (receiverId: string, message: string, detail?: Record<string, unknown>) => {
              logs.push({ receiverId, message, ...(detail ? { detail } : {}) });
              scheduleFlush();
            },
          }
        : {}),
    });
    await fleet.start(mine, {
      concurrency,
      onProgress: (started, total) => send({ type: 'progress', started, total }),
    });
    return { started: fleet.agents.size };
  },

  async status({ syncedSince }) {
    let online = 0;
    let synced = 0;
    let since = 0;
    for (const agent of fleet?.agents.values() ?? []) {
      if (agent.link.connected) online++;
      const state = agent.sync.state();
      if (state.synced) synced++;
      // `at` is the receiver's own clock at the sync; plus its offset it is controller
      // time, which the time server takes from the true clock.
      if (syncedSince !== undefined && state.synced && state.at + state.offsetMs >= syncedSince) since++;
    }
    return {
      receivers: specs.size,
      running: fleet?.agents.size ?? 0,
      online,
      synced,
      ...(syncedSince !== undefined ? { syncedSince: since } : {}),
    };
  },

  async powerCycle({ receiverId }) {
    const spec = specOf(receiverId);
    await serial(receiverId, async () => {
      poweredOff.delete(receiverId);
      await fleet?.powerCycle(spec);
    });
    return undefined;
  },

  async powerOff({ receiverId }) {
    specOf(receiverId);
    await serial(receiverId, async () => {
      const agent = fleet?.agents.get(receiverId);
      poweredOff.add(receiverId);
      if (!agent) return;
      // A power cut (no goodbye); its store stays with the fleet for powerOn.
      fleet?.agents.delete(receiverId);
      agent.powerCut();
    });
    return undefined;
  },

  async powerOn({ receiverId }) {
    const spec = specOf(receiverId);
    await serial(receiverId, async () => {
      if (fleet?.agents.has(receiverId)) return;
      poweredOff.delete(receiverId);
      // No agent running: Fleet.powerCycle just starts it again from its store.
      await fleet?.powerCycle(spec);
    });
    return undefined;
  },

  async memory() {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      pid: process.pid,
      receivers: fleet?.agents.size ?? 0,
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      heapTotalBytes: m.heapTotal,
      externalBytes: m.external,
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
    };
  },

  async livePacketLoss({ fraction }) {
    if (!fleet) throw new Error('this worker has not started its receivers');
    return fleet.setLivePacketLoss(fraction);
  },

  async rawSubscribe({ probe, topic, count, mqttUrl, qos }) {
    if (probes.has(probe)) throw new Error(`raw probe ${probe} exists already`);
    const entry = { clients: [] as MqttClient[], arrivals: [] as number[], closed: false };
    probes.set(probe, entry);
    let next = 0;
    const one = async () => {
      while (next < count && !entry.closed) {
        next++;
        const client = await connectProbeClient(mqttUrl, entry.clients);
        client.on('message', () => entry.arrivals.push(Date.now()));
        await client.subscribeAsync(topic, { qos });
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(RAW_CONCURRENCY, count) }, one));
      if (entry.closed) throw new Error(`raw probe ${probe} was closed while subscribing`);
    } catch (error) {
      await closeProbe(probe);
      throw error;
    }
    return { subscribed: entry.clients.length };
  },

  async rawArrivals({ probe }) {
    const entry = probes.get(probe);
    if (!entry) throw new Error(`no raw probe ${probe} in this worker`);
    return [...entry.arrivals];
  },

  async rawClose({ probe }) {
    await closeProbe(probe);
    return undefined;
  },

  async stop() {
    await shutdown();
    return undefined;
  },
};

async function shutdown(): Promise<void> {
  await Promise.all([...probes.keys()].map(closeProbe));
  await fleet?.stop();
}

async function handle(request: WorkerRequest): Promise<void> {
  const handler = handlers[request.op] as (args: unknown) => Promise<unknown>;
  let reply: WorkerEvent;
  try {
    reply = { type: 'reply', id: request.id, ok: true, value: await handler(request.args) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = {
      type: 'reply',
      id: request.id,
      ok: false,
      error: { message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    };
  }
  if (request.op !== 'stop') return send(reply);
  exiting = true;
  // The answer to stop is the last word: leave once it is on its way.
  send(reply, () => process.exit(0));
}

process.on('message', (message: unknown) => {
  if (exiting) return;
  if (isWorkerRequest(message)) void handle(message);
});

// The parent went away without asking stop (killed, crashed): goodbyes, briefly, then leave.
process.on('disconnect', () => {
  if (exiting) return;
  exiting = true;
  setTimeout(() => process.exit(0), ORPHAN_GOODBYE_MS).unref();
  void shutdown().finally(() => process.exit(0));
});

send({ type: 'ready', pid: process.pid });
