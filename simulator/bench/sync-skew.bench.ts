// One item on every receiver of one village: how far apart do they start? First with
// perfect clocks on a clean link (the baseline: what the simulator itself adds), then
// with each receiver's clock off by up to ±2 s (and drifting) behind 50 ms of network
// jitter, so the clock sync has to do the work. Skew is each receiver's distance from
// the median start of the item; the spread (first to last) per item is reported too.
//
//   npm run bench -- sync-skew [--receivers 100] [--rounds 5] [--offset-ms 2000] [--jitter-ms 50] [--processes 2]
import type { BenchOutcome } from '../../scripts/bench.js';
import { FaultProxy } from '../src/faults/fault-proxy.js';
import { FleetWorkers } from '../src/fleet/fleet-workers.js';
import type { VirtualReceiverSpec } from '../src/fleet/virtual-receiver.js';
import { waitFor } from '../src/harness/free-port.js';
import { System } from '../src/harness/system.js';
import { vietnamLocal } from '../src/harness/vietnam-time.js';
import { summarise } from '../src/metrics/latency.js';
import { firstStarts } from '../src/metrics/play-analysis.js';
import { defaultProcesses, intOption, say, toneContent } from './fleet-bench.js';

interface Phase {
  deviations: number[];
  spreads: number[];
  clockError: number[];
  lateness: number[];
  started: number;
}

export default async function syncSkew(options: Record<string, string>): Promise<BenchOutcome> {
  const n = intOption(options, 'receivers', 100);
  const rounds = intOption(options, 'rounds', 5);
  const offsetMs = intOption(options, 'offset-ms', 2000);
  const jitterMs = intOption(options, 'jitter-ms', 50);
  const processes = intOption(options, 'processes', defaultProcesses());
  const system = await System.start({ province: { receivers: n, perVillage: n }, log: say });
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: system.broker.port } });
  try {
    const registry = await system.as('technician-lp');
    const specs = await registry.receivers();
    const village = specs[0]?.areas.at(-1)?.areaCode as string;
    const { contentId, emergency } = await toneContent(system, 'Bản tin', 2, 660);
    const trustedKeys = await registry.trustedKeys();

    const phase = async (name: string, mqttUrl: string, fleetSpecs: VirtualReceiverSpec[]): Promise<Phase> => {
      const fleet = await FleetWorkers.start(fleetSpecs, {
        processes,
        settings: { mqttUrl, controllerUrl: system.controller.url, trustedKeys, heartbeatMs: 30_000 },
      });
      try {
        const ready = await waitFor(async () => (await fleet.status()).synced === n, 120_000, 250);
        if (!ready) throw new Error(`${name}: the fleet did not sync its clocks`);
        const first = Date.now() + 15_000;
        const items: Array<{ itemId: string; airtime: number }> = [];
        for (let round = 0; round < rounds; round++) {
          const airtime = Math.ceil((first + round * 5000) / 1000) * 1000;
          const schedule = await emergency.post<{ id: string }>('/schedules', {
            title: `${name} ${round + 1}`,
            contentId,
            startLocal: vietnamLocal(airtime),
            durationMs: 4000,
            priority: 'normal',
            startMode: 'hard',
            prelude: 'none',
            volume: 80,
            targets: { areas: [village] },
            acceptConflicts: true,
          });
          const d = await emergency.get<{ items: Array<{ occurrenceId: string }> }>(
            `/deliveries?schedule=${schedule.id}&limit=1`,
          );
          items.push({ itemId: d.items[0]?.occurrenceId as string, airtime });
        }
        const last = items.at(-1) as { airtime: number };
        await waitFor(() => Date.now() > last.airtime + 5000, 120_000, 250);
        const result: Phase = { deviations: [], spreads: [], clockError: [], lateness: [], started: 0 };
        for (const item of items) {
          const starts = [...firstStarts(fleet.plays, item.itemId).values()].sort((a, b) => a - b);
          result.started += starts.length;
          if (starts.length === 0) continue;
          const median = starts[Math.floor(starts.length / 2)] as number;
          result.deviations.push(...starts.map((t) => Math.abs(t - median)));
          result.spreads.push((starts.at(-1) as number) - (starts[0] as number));
          for (const p of fleet.plays)
            if (p.itemId === item.itemId && p.startedAt !== undefined && p.startedAtControllerTime !== undefined) {
              result.clockError.push(Math.abs(p.startedAt - p.startedAtControllerTime));
              result.lateness.push(Math.max(0, p.startedAtControllerTime - item.airtime));
            }
        }
        const s = summarise(result.spreads);
        say(
          `${name}: ${result.started}/${n * rounds} started; spread per item p50 ${s?.p50_ms} ms, max ${s?.max_ms} ms`,
        );
        return result;
      } finally {
        await fleet.stop();
      }
    };

    const baseline = await phase('baseline (true clocks, clean link)', system.broker.url, specs);
    proxy.apply('all', { jitterMs });
    const skewed = specs.map((s) => ({
      ...s,
      offsetMs: Math.round((Math.random() * 2 - 1) * offsetMs),
      driftPpm: (Math.random() * 2 - 1) * 50,
    }));
    const measured = await phase(`±${offsetMs} ms clocks, ${jitterMs} ms jitter`, proxy.url, skewed);
    return {
      n,
      samplesMs: measured.deviations,
      baselineSamplesMs: baseline.deviations,
      okFraction: measured.started / (n * rounds),
      extra: {
        rounds,
        offsetMs,
        jitterMs,
        processes,
        spreadPerItem: summarise(measured.spreads),
        baselineSpreadPerItem: summarise(baseline.spreads),
        clockError: summarise(measured.clockError),
        baselineClockError: summarise(baseline.clockError),
        lateness: summarise(measured.lateness),
        baselineLateness: summarise(baseline.lateness),
      },
    };
  } finally {
    await proxy.close();
    await system.stop();
  }
}
