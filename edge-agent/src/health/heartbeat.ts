import type { Priority, Telemetry } from '@loa/protocols';
import type { Board, Clock, Modem, TimerHandle } from '../hardware/seams.js';
import type { FaultLatch } from './fault-latch.js';

/** Where each field of the heartbeat comes from. */
export interface HeartbeatSources {
  receiverId: string;
  agentVersion: string;
  firmware: () => Promise<string | undefined>;
  clock: Clock;
  board: Board;
  modem: Modem;
  faults: FaultLatch;
  audio: () => { volume: number; amplifierOn: boolean; speakerLineOhm?: number };
  playing: () => { itemId: string; priority: Priority } | null;
  cache: () => { assets: number; bytesUsed: number; bytesFree: number };
  clockSync: () => { synced: boolean; offsetMs: number };
  scheduleVersion: () => number | undefined;
}

/** Limits beyond which the heartbeat latches a fault (cleared when back within them). */
export const HEALTH_LIMITS = { overheatC: 80, batteryLowPct: 20, storageFullBytes: 50 * 1024 * 1024 };

/**
 * One telemetry report, and the faults its readings imply. A probe that fails gives an
 * unknown reading and its fault (modem_error, storage_error) rather than no heartbeat:
 * the heartbeat is also the receiver's presence, so it must go out whatever breaks.
 */
export async function readTelemetry(
  s: HeartbeatSources,
  startedAtMonotonic: number,
  everyMs?: number,
): Promise<Telemetry> {
  const [network, power, temperatureC, disk, firmware] = await Promise.all([
    s.modem.read().catch(async (error: unknown) => {
      await s.faults.raise('modem_error', String(error));
      return { type: 'unknown' as const };
    }),
    s.board.power().catch((): Telemetry['power'] => ({ mains: true })),
    s.board.temperatureC().catch(() => undefined),
    s.board.disk().catch(async (error: unknown) => {
      await s.faults.raise('storage_error', String(error));
      return undefined;
    }),
    s.firmware().catch(() => undefined),
  ]);
  if (network.type !== 'unknown') await s.faults.clear('modem_error');
  await s.faults.set('mains_power_lost', !power.mains);
  if (power.batteryPct !== undefined) await s.faults.set('battery_low', power.batteryPct < HEALTH_LIMITS.batteryLowPct);
  if (temperatureC !== undefined) await s.faults.set('overheat', temperatureC >= HEALTH_LIMITS.overheatC);
  if (disk) await s.faults.set('storage_full', disk.freeBytes < HEALTH_LIMITS.storageFullBytes);
  const sync = s.clockSync();
  const cache = s.cache();
  const scheduleVersion = s.scheduleVersion();
  return {
    v: 1,
    receiverId: s.receiverId,
    at: Math.round(s.clock.now() + sync.offsetMs),
    uptimeS: Math.max(0, Math.floor((s.clock.monotonic() - startedAtMonotonic) / 1000)),
    agentVersion: s.agentVersion,
    ...(firmware ? { firmware: firmware.slice(0, 64) } : {}),
    power,
    network,
    audio: s.audio(),
    playing: s.playing(),
    cache: disk ? { ...cache, bytesFree: Math.min(cache.bytesFree, disk.freeBytes) } : cache,
    clock: { synced: sync.synced, offsetMs: Math.round(sync.offsetMs) },
    ...(temperatureC === undefined ? {} : { temperatureC }),
    faults: s.faults.list(),
    ...(scheduleVersion === undefined ? {} : { scheduleVersion }),
    // The period, so the controller knows how long a silence means offline for this receiver.
    ...(everyMs === undefined ? {} : { intervalS: Math.max(1, Math.round(everyMs / 1000)) }),
  };
}

/** Sends telemetry every `everyMs` on the injected clock (and on demand, e.g. after reconnecting). */
export class Heartbeat {
  #timer: TimerHandle | undefined;
  readonly #started: number;

  constructor(
    private readonly sources: HeartbeatSources,
    private readonly send: (telemetry: Telemetry) => Promise<void>,
    private everyMs: number,
    private readonly log: (message: string, detail?: Record<string, unknown>) => void = () => {},
  ) {
    this.#started = sources.clock.monotonic();
  }

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    if (this.#timer) this.sources.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Changes the period (device.config); takes effect from the next beat. */
  setPeriod(everyMs: number): void {
    this.everyMs = everyMs;
  }

  async beat(): Promise<Telemetry> {
    const telemetry = await readTelemetry(this.sources, this.#started, this.everyMs);
    await this.send(telemetry).catch((error: unknown) => this.log('telemetry not sent', { error: String(error) }));
    return telemetry;
  }

  #schedule(ms: number): void {
    this.#timer = this.sources.clock.setTimeout(() => {
      void this.beat()
        .catch((error: unknown) => this.log('heartbeat failed', { error: String(error) }))
        .finally(() => {
          if (this.#timer) this.#schedule(this.everyMs);
        });
    }, ms);
  }
}
