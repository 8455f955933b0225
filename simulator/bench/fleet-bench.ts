// What the fleet benchmarks share: a private system with a generated province, a fleet of
// real agents in worker processes, the raw broker fan-out baseline, and test audio.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { oggOpusFile, sine } from '@loa/edge-agent';
import mqtt from 'mqtt';
import { FleetWorkers } from '../src/fleet/fleet-workers.js';
import type { VirtualReceiverSpec } from '../src/fleet/virtual-receiver.js';
import { waitFor } from '../src/harness/free-port.js';
import { System } from '../src/harness/system.js';
import type { ControllerRegistry } from '../src/registry/controller-registry.js';

export function intOption(options: Record<string, string>, name: string, fallback: number): number {
  const value = options[name] === undefined ? fallback : Number(options[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, not ${options[name]}`);
  return value;
}

export function say(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export interface BenchFleet {
  system: System;
  registry: ControllerRegistry;
  specs: VirtualReceiverSpec[];
  fleet: FleetWorkers;
  fleetReadyMs: number;
  stop(): Promise<void>;
}

/** A system with `receivers` receivers, `perVillage` to a village, and all of them online and synced. */
export async function startBenchFleet(options: {
  receivers: number;
  perVillage: number;
  processes: number;
  heartbeatMs?: number;
  offsetMs?: (i: number) => number;
  driftPpm?: number;
  mqttUrl?: (system: System) => Promise<string>;
  beforeFleet?: (system: System) => Promise<void>;
}): Promise<BenchFleet> {
  const system = await System.start({
    province: { receivers: options.receivers, perVillage: options.perVillage },
    log: say,
  });
  try {
    const registry = await system.as('technician-lp');
    const specs = (await registry.receivers()).map((s, i) => ({
      ...s,
      offsetMs: options.offsetMs?.(i) ?? 0,
      driftPpm: options.driftPpm ? (Math.random() * 2 - 1) * options.driftPpm : 0,
    }));
    await options.beforeFleet?.(system);
    const began = Date.now();
    const fleet = await FleetWorkers.start(specs, {
      processes: options.processes,
      settings: {
        mqttUrl: (await options.mqttUrl?.(system)) ?? system.broker.url,
        controllerUrl: system.controller.url,
        trustedKeys: await registry.trustedKeys(),
        heartbeatMs: options.heartbeatMs ?? 30_000,
      },
      concurrency: 50,
      onProgress: (n, total) => {
        if (n % 1000 === 0 || n === total) say(`${n}/${total} receivers started`);
      },
    });
    const ready = await waitFor(
      async () => {
        const s = await fleet.status();
        return s.online === specs.length && s.synced === specs.length;
      },
      120_000 + specs.length * 30,
      250,
    );
    if (!ready) throw new Error(`the fleet did not come online and synced: ${JSON.stringify(await fleet.status())}`);
    const fleetReadyMs = Date.now() - began;
    say(`${specs.length} receivers online and clock-synced in ${fleetReadyMs} ms`);
    return {
      system,
      registry,
      specs,
      fleet,
      fleetReadyMs,
      stop: async () => {
        await fleet.stop();
        await system.stop();
      },
    };
  } catch (error) {
    await system.stop();
    throw error;
  }
}

/**
 * An emergency benchmark's fleet (100 receivers a village, slow heartbeats) with its
 * baseline measured first: the raw broker fan-out to as many subscribers, on the same
 * broker, before the fleet takes its connections (at 10,000 receivers both would not fit
 * in the broker's file limit).
 */
export async function startFanoutBench(n: number, rounds: number, processes: number) {
  let baseline: number[] = [];
  const bench = await startBenchFleet({
    receivers: n,
    perVillage: 100,
    processes,
    heartbeatMs: 60_000,
    beforeFleet: async (system) => {
      say(`baseline: raw fan-out to ${n} subscribers, ${rounds} rounds`);
      baseline = await rawFanout(system.broker.url, n, rounds, processes);
    },
  });
  return { ...bench, baseline };
}

/** CPU time (user + system) a process has used so far, from /proc (Linux; 100 ticks a second); null if gone. */
export function processCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** CPU time the whole machine has spent busy and idle so far, over all cores, from /proc/stat (ms). */
export function machineCpuMs(): { busy: number; idle: number } {
  const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const t = ticks.slice(0, 8).map(Number);
  const idle = (t[3] ?? 0) + (t[4] ?? 0);
  return { busy: (t.reduce((a, b) => a + b, 0) - idle) * 10, idle: idle * 10 };
}

export function defaultProcesses(): number {
  return availableParallelism();
}

/**
 * The raw broker fan-out: one QoS 1 message to `n` plain subscribers on the same broker,
 * in worker processes like the fleet's, `rounds` times; latency is publish → arrival.
 */
export async function rawFanout(brokerUrl: string, n: number, rounds: number, processes: number): Promise<number[]> {
  const probe = await FleetWorkers.start([], {
    processes,
    settings: { mqttUrl: brokerUrl, controllerUrl: 'http://127.0.0.1:1', trustedKeys: [] },
  });
  const publisher = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5 });
  const topic = `loa-bench/fanout/${Date.now()}`;
  const samples: number[] = [];
  try {
    const raw = await probe.rawSubscribers(topic, n, brokerUrl);
    for (let round = 1; round <= rounds; round++) {
      const sentAt = Date.now();
      await publisher.publishAsync(topic, JSON.stringify({ round, sentAt }), { qos: 1 });
      // Earlier rounds arrived before this one was sent (rounds are 500 ms apart).
      const thisRound = async () => (await raw.arrivals()).filter((at) => at >= sentAt);
      const arrived = await waitFor(async () => (await thisRound()).length >= n, 60_000, 20);
      if (!arrived) throw new Error(`raw fan-out round ${round}: not every subscriber got the message`);
      samples.push(...(await thisRound()).map((at) => at - sentAt));
      await new Promise((r) => setTimeout(r, 500));
    }
    await raw.close();
  } finally {
    await publisher.endAsync();
    await probe.stop();
  }
  return samples;
}

/** A tone uploaded as an asset (normalised and encoded by the controller, as any upload). */
export function toneAsset(
  client: ControllerRegistry,
  seconds: number,
  hz = 880,
): Promise<{ sha256: string; durationMs: number }> {
  return client.uploadAsset(oggOpusFile(sine(hz, seconds, 0.4)));
}

/** A tone uploaded as an asset and wrapped in content owned by the province. */
export async function toneContent(
  system: System,
  title: string,
  seconds: number,
  hz = 880,
): Promise<{ contentId: string; emergency: ControllerRegistry }> {
  const emergency = await system.as('emergency-lp');
  const asset = await toneAsset(emergency, seconds, hz);
  const content = await emergency.post<{ id: string }>('/content', {
    title,
    category: 'alert',
    ownerArea: 'LP',
    variants: [{ language: 'vie', assetSha256: asset.sha256 }],
  });
  return { contentId: content.id, emergency };
}
