import type { TrustedKey } from '@loa/protocols';
import type { LivePacketCounts } from '../faults/live-packet-loss.js';
import type { LiveRecord } from './live-record.js';
import type { PlayRecord } from './recording-renderer.js';
import type { VirtualReceiverSpec } from './virtual-receiver.js';

// The IPC contract between FleetWorkers (the parent) and fleet-worker (each child), over
// Node's `child_process.fork` channel with `serialization: 'advanced'` (structured
// clone). The parent calls, the child answers each call once by its id; the child also
// sends events of its own (progress, plays, logs) at any time. A child sends everything
// that happened before a reply ahead of it, so a reply never overtakes a play record.

/** What every receiver of a child shares. */
export interface WorkerSettings {
  mqttUrl: string;
  controllerUrl: string;
  trustedKeys: TrustedKey[];
  heartbeatMs?: number;
  /** Each receiver's live sessions are written as WAV files here (FleetSettings.liveWavDir). */
  liveWavDir?: string;
  /** Share of live packets each receiver's link loses at first (FleetSettings.livePacketLoss). */
  livePacketLoss?: number;
}

/** One child's counts, asked fresh. */
export interface WorkerStatus {
  /** Receivers given to the child. */
  receivers: number;
  /** Of them, running (not powered off). */
  running: number;
  /** With their MQTT session established. */
  online: number;
  /** Clock-synced (a good sync, not stale). */
  synced: number;
  /** Having completed a clock sync at or after the `syncedSince` asked (true time), when asked. */
  syncedSince?: number;
}

export interface WorkerMemory {
  pid: number;
  /** Receivers running in the child. */
  receivers: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** CPU time the child has used since it started (process.cpuUsage), µs. */
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

/** Every call the parent can make: its arguments and what the child answers. */
export interface WorkerCalls {
  /** Starts the child's receivers (once), `concurrency` at a time, with progress events. */
  start: {
    args: { specs: VirtualReceiverSpec[]; settings: WorkerSettings; concurrency: number; forwardLogs: boolean };
    result: { started: number };
  };
  status: { args: { syncedSince?: number }; result: WorkerStatus };
  powerCycle: { args: { receiverId: string }; result: undefined };
  powerOff: { args: { receiverId: string }; result: undefined };
  powerOn: { args: { receiverId: string }; result: undefined };
  memory: { args: Record<string, never>; result: WorkerMemory };
  /** Sets the share of live packets every receiver's link loses from now on; answers the counts so far. */
  livePacketLoss: { args: { fraction: number }; result: LivePacketCounts };
  /** `count` plain MQTT clients subscribe to `topic` (at `qos`); answers once all are subscribed. */
  rawSubscribe: {
    args: { probe: string; topic: string; count: number; mqttUrl: string; qos: 0 | 1 };
    result: { subscribed: number };
  };
  /** True arrival times (Date.now()) of every message the probe's clients received so far. */
  rawArrivals: { args: { probe: string }; result: number[] };
  rawClose: { args: { probe: string }; result: undefined };
  /** Every agent says goodbye; the child exits right after answering. */
  stop: { args: Record<string, never>; result: undefined };
}

export type WorkerOp = keyof WorkerCalls;

/** Parent → child. */
export type WorkerRequest = {
  [K in WorkerOp]: { type: 'call'; id: number; op: K; args: WorkerCalls[K]['args'] };
}[WorkerOp];

export interface WorkerLogEntry {
  receiverId: string;
  message: string;
  detail?: Record<string, unknown>;
}

/** Child → parent. */
export type WorkerEvent =
  /** The child listens for calls. */
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: { message: string; stack?: string } }
  /** Receivers of this child started so far (of `total`, the child's share). */
  | { type: 'progress'; started: number; total: number }
  /** Play records, in the order they happened (batched per event-loop turn); a final one replaces its partial one. */
  | { type: 'plays'; records: PlayRecord[] }
  /** Live records, each once its session has ended on its receiver (the same batching as plays). */
  | { type: 'lives'; records: LiveRecord[] }
  /** Agents' log lines, only when the parent asked for them. */
  | { type: 'logs'; entries: WorkerLogEntry[] };

const OPS: ReadonlySet<string> = new Set<WorkerOp>([
  'start',
  'status',
  'powerCycle',
  'powerOff',
  'powerOn',
  'memory',
  'livePacketLoss',
  'rawSubscribe',
  'rawArrivals',
  'rawClose',
  'stop',
]);

export function isWorkerRequest(message: unknown): message is WorkerRequest {
  const m = message as Partial<WorkerRequest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === 'call' &&
    typeof m.id === 'number' &&
    typeof m.op === 'string' &&
    OPS.has(m.op) &&
    typeof m.args === 'object' &&
    m.args !== null
  );
}

export function isWorkerEvent(message: unknown): message is WorkerEvent {
  const m = message as { type?: unknown } | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    (m.type === 'ready' ||
      m.type === 'reply' ||
      m.type === 'progress' ||
      m.type === 'plays' ||
      m.type === 'lives' ||
      m.type === 'logs')
  );
}
