import {
  type AgentParts,
  Amplifier,
  isLiveItem,
  LiveRenderer,
  MemoryStorage,
  parseAgentConfig,
  routeLive,
  type Storage,
  TimedRenderer,
  VirtualGpio,
} from '@loa/edge-agent';
import type { AreaRef, TrustedKey } from '@loa/protocols';
import type { LiveRecord } from './live-record.js';
import { LiveRecordingRenderer } from './live-recording-renderer.js';
import { type PlayRecord, RecordingRenderer } from './recording-renderer.js';
import { driftingClock } from './virtual-clock.js';
import { VirtualSoundCard } from './virtual-sound-card.js';
import { VirtualSpeakerLine } from './virtual-speaker-line.js';

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
  /** Each live session a receiver played, once it has ended there. */
  recordLive?: (record: LiveRecord) => void;
  /** Write what each receiver heard of each live session as `<dir>/<sessionId>/<receiverId>.wav` (PCM is kept only then). */
  liveWavDir?: string;
  /** Share of live audio packets each receiver's link loses, 0 to 1 (see LivePacketLoss; the fleet applies it). */
  livePacketLoss?: number;
  log?: (receiverId: string, message: string, detail?: Record<string, unknown>) => void;
}

/**
 * The parts of one virtual receiver: the real agent with a drifting clock, storage in
 * memory (kept by the fleet, so a "power loss" restart finds its store), a timing-only
 * renderer for files that still reads and verifies their audio, the agent's real live
 * renderer (jitter buffer, Opus decoding, playout on controller time) on a virtual sound
 * card and amplifier, a healthy board and modem, and a speaker line its silent test measures.
 */
export function virtualReceiverParts(
  spec: VirtualReceiverSpec,
  fleet: FleetSettings,
  storage: Storage = new MemoryStorage(),
  line: VirtualSpeakerLine = new VirtualSpeakerLine(),
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
    renderer: ({ readAsset, controllerTime, liveSessions, volume, raiseFault }) => {
      // Live sound is decoded and paced for real (thousands of file items stay timing-only):
      // the card plays it at the clock's rate and says when each frame came out.
      const card = new VirtualSoundCard(clock, Date.now, fleet.liveWavDir !== undefined);
      const amplifier = new Amplifier({
        gpio: new VirtualGpio(),
        line: String(config.amplifier.relayLine),
        clock,
        warmUpMs: config.amplifier.warmUpMs,
        holdMs: config.amplifier.holdMs,
      });
      const live = new LiveRecordingRenderer(
        {
          receiverId: spec.receiverId,
          sessions: liveSessions,
          card,
          controllerTime,
          record: (record) => fleet.recordLive?.(record),
          ...(fleet.liveWavDir !== undefined ? { wavDir: fleet.liveWavDir } : {}),
        },
        (onFrameHeard) =>
          new LiveRenderer({
            sink: card,
            amplifier,
            clock,
            controllerTime,
            sessions: liveSessions,
            readAsset,
            masterVolume: volume,
            onFault: raiseFault,
            onFrameHeard,
          }),
      );
      return new RecordingRenderer(
        spec.receiverId,
        routeLive(new TimedRenderer(clock, undefined, readAsset), live, isLiveItem(liveSessions)),
        fleet.record,
        Date.now,
        controllerTime,
      );
    },
    board: {
      temperatureC: async () => 45,
      power: async () => ({ mains: true, batteryPct: 100 }),
      disk: async () => ({ freeBytes: 4e9, totalBytes: 8e9 }),
      reboot: async () => {},
    },
    modem: { read: async () => ({ type: '3g', rssiDbm: rssi, operator: 'Viettel' }) },
    lineProbe: line,
    ...(fleet.log
      ? { log: (message: string, detail?: Record<string, unknown>) => fleet.log?.(spec.receiverId, message, detail) }
      : {}),
  };
}
