import { type AgentParts, MemoryStorage, parseAgentConfig, type Storage, TimedRenderer } from '@loa/edge-agent';
import type { AreaRef, TrustedKey } from '@loa/protocols';
import { type PlayRecord, RecordingRenderer } from './recording-renderer.js';
import { driftingClock } from './virtual-clock.js';

export interface VirtualReceiverSpec {
  receiverId: string;
  areas: AreaRef[];
  password?: string;
  /** This receiver's clock error (ms) and drift (ppm). */
  offsetMs?: number;
  driftPpm?: number;
}

export interface FleetSettings {
  mqttUrl: string;
  controllerUrl: string;
  trustedKeys: TrustedKey[];
  heartbeatMs?: number;
  record: (record: PlayRecord) => void;
  log?: (receiverId: string, message: string, detail?: Record<string, unknown>) => void;
}

/**
 * The parts of one virtual receiver: the real agent with a drifting clock, storage in
 * memory (kept by the fleet, so a "power loss" restart finds its store), a timing-only
 * renderer that still reads and verifies its audio, and a healthy board and modem.
 */
export function virtualReceiverParts(
  spec: VirtualReceiverSpec,
  fleet: FleetSettings,
  storage: Storage = new MemoryStorage(),
): AgentParts {
  const clock = driftingClock(spec.offsetMs ?? 0, spec.driftPpm ?? 0);
  const config = parseAgentConfig(
    {
      receiverId: spec.receiverId,
      areas: spec.areas,
      trustedKeys: fleet.trustedKeys,
      mqtt: { url: fleet.mqttUrl, ...(spec.password ? { password: spec.password } : {}) },
      controllerUrl: fleet.controllerUrl,
      dataDir: '/virtual',
      audio: { sink: 'null' },
      health: { heartbeatMs: fleet.heartbeatMs ?? 10_000, firmwareFile: '/nonexistent' },
    },
    '/',
    {},
  );
  const rssi = -70 - Math.floor(Math.random() * 40);
  return {
    config,
    clock,
    storage,
    renderer: ({ readAsset, controllerTime }) =>
      new RecordingRenderer(
        spec.receiverId,
        new TimedRenderer(clock, undefined, readAsset),
        fleet.record,
        Date.now,
        controllerTime,
      ),
    board: {
      temperatureC: async () => 45,
      power: async () => ({ mains: true, batteryPct: 100 }),
      disk: async () => ({ freeBytes: 4e9, totalBytes: 8e9 }),
      reboot: async () => {},
    },
    modem: { read: async () => ({ type: '3g', rssiDbm: rssi, operator: 'Viettel' }) },
    ...(fleet.log
      ? { log: (message: string, detail?: Record<string, unknown>) => fleet.log?.(spec.receiverId, message, detail) }
      : {}),
  };
}
