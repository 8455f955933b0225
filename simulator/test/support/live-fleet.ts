import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetWorkers } from '../../src/fleet/fleet-workers.js';
import type { VirtualReceiverSpec } from '../../src/fleet/virtual-receiver.js';
import { waitFor } from '../../src/harness/free-port.js';
import { System, type SystemOptions } from '../../src/harness/system.js';

export interface LiveFleet {
  system: System;
  fleet: FleetWorkers;
  specs: VirtualReceiverSpec[];
  /** Where the receivers' WAV files go. */
  wavDir: string;
  /** Receivers under an area (code), from their area chains. */
  under(areaCode: string): string[];
  stop(): Promise<void>;
}

/**
 * A private system (fresh database, broker, the real controller process) with a small
 * generated province and every receiver running as a real agent in two worker
 * processes, recording its live sessions as WAV files; online and clock-synced. Clocks
 * are off by up to ±300 ms and drift up to ±50 ppm, so playing in step is the clock
 * sync's work.
 */
export async function startLiveFleet(options: {
  province: { receivers: number; perVillage: number; villagesPerCommune: number };
  controllerEnv?: SystemOptions['controllerEnv'];
}): Promise<LiveFleet> {
  const system = await System.start({
    province: options.province,
    ...(options.controllerEnv ? { controllerEnv: options.controllerEnv } : {}),
  });
  const wavDir = mkdtempSync(join(tmpdir(), 'loa-sim-live-'));
  let fleet: FleetWorkers | undefined;
  try {
    const registry = await system.as('technician-lp');
    const specs = (await registry.receivers()).map((s) => ({
      ...s,
      offsetMs: Math.round((Math.random() * 2 - 1) * 300),
      driftPpm: (Math.random() * 2 - 1) * 50,
    }));
    fleet = await FleetWorkers.start(specs, {
      processes: 2,
      settings: {
        mqttUrl: system.broker.url,
        controllerUrl: system.controller.url,
        trustedKeys: await registry.trustedKeys(),
        heartbeatMs: 10_000,
        liveWavDir: wavDir,
      },
    });
    const running = fleet;
    const ready = await waitFor(
      async () => {
        const s = await running.status();
        return s.online === specs.length && s.synced === specs.length;
      },
      60_000,
      100,
    );
    if (!ready) throw new Error(`the fleet did not come online and synced: ${JSON.stringify(await fleet.status())}`);
    return {
      system,
      fleet,
      specs,
      wavDir,
      under: (code) => specs.filter((s) => s.areas.some((a) => a.areaCode === code)).map((s) => s.receiverId),
      stop: async () => {
        await running.stop();
        await system.stop();
        // SIM_KEEP_LIVE_WAVS=1: the receivers' recordings stay, to be listened to.
        if (process.env.SIM_KEEP_LIVE_WAVS) process.stderr.write(`live recordings kept in ${wavDir}\n`);
        else rmSync(wavDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fleet?.stop();
    await system.stop();
    rmSync(wavDir, { recursive: true, force: true });
    throw error;
  }
}
