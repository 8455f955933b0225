// An emergency to every receiver of a province: trigger (POST /commands/play at the
// controller) → sound started on each receiver (the virtual sink's true time), against
// the raw broker fan-out of the same run (one QoS 1 message to as many plain
// subscribers on the same broker, in worker processes like the fleet's).
//
//   npm run bench -- alert-fanout [--receivers 1000] [--rounds 5] [--processes 2]
import type { BenchOutcome } from '../../scripts/bench.js';
import { waitFor } from '../src/harness/free-port.js';
import { summarise } from '../src/metrics/latency.js';
import { firstStarts } from '../src/metrics/play-analysis.js';
import { WireObserver } from '../src/scenarios/wire-observer.js';
import { defaultProcesses, intOption, say, startFanoutBench, toneContent } from './fleet-bench.js';

export default async function alertFanout(options: Record<string, string>): Promise<BenchOutcome> {
  const n = intOption(options, 'receivers', 1000);
  const rounds = intOption(options, 'rounds', 5);
  const processes = intOption(options, 'processes', defaultProcesses());
  const bench = await startFanoutBench(n, rounds, processes);
  const { system, fleet, baseline } = bench;
  const observer = await WireObserver.start(system.broker.url);
  try {
    const { contentId, emergency } = await toneContent(system, 'Cảnh báo lũ quét', 3);
    const trigger = async () => {
      const at = Date.now();
      const sent = await emergency.post<{ itemId: string; commands: Array<{ id: string }> }>('/commands/play', {
        contentId,
        targets: { areas: ['LP'] },
        priority: 'emergency',
        prelude: 'none',
      });
      const started = await waitFor(() => firstStarts(fleet.plays, sent.itemId).size >= n, 60_000, 20);
      const starts = firstStarts(fleet.plays, sent.itemId);
      // Sound lasts 3 s; the next round starts on a quiet fleet.
      await waitFor(
        () => fleet.plays.filter((p) => p.itemId === sent.itemId && p.result).length >= starts.size,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 500));
      const commandIds = new Set(sent.commands.map((c) => c.id));
      const accepted = observer.acks.filter((a) => commandIds.has(a.commandId) && a.result === 'accepted');
      return {
        at,
        itemId: sent.itemId,
        complete: started,
        latencies: [...starts.values()].map((t) => t - at),
        delivery: accepted.map((a) => a.at - at),
        records: fleet.plays.filter((p) => p.itemId === sent.itemId && p.startedAtControllerTime !== undefined),
      };
    };
    // The first alert also downloads its audio to every receiver: reported apart (cold).
    say('cold round: the audio is fetched by every receiver');
    const cold = await trigger();
    const measured: number[] = [];
    const delivery: number[] = [];
    const clockError: number[] = [];
    const perRound = [];
    let started = 0;
    const cpuOf = async () => (await fleet.memory()).reduce((sum, w) => sum + w.cpuUserMicros + w.cpuSystemMicros, 0);
    const cpuBefore = await cpuOf();
    for (let round = 1; round <= rounds; round++) {
      const r = await trigger();
      measured.push(...r.latencies);
      delivery.push(...r.delivery);
      started += r.latencies.length;
      for (const p of r.records) {
        clockError.push(Math.abs((p.startedAt as number) - (p.startedAtControllerTime as number)));
      }
      const s = summarise(r.latencies);
      perRound.push({ round, started: r.latencies.length, p50_ms: s?.p50_ms, p99_ms: s?.p99_ms, max_ms: s?.max_ms });
      say(`round ${round}: ${r.latencies.length}/${n} started, p50 ${s?.p50_ms} ms, p99 ${s?.p99_ms} ms`);
    }
    // What one receiver's share of an alert costs in CPU (verify, store, acknowledge, play,
    // report): in the simulator the receivers of a process take turns on one core, so an
    // alert's last start waits for (receivers per core) × this.
    const cpuPerReceiverMs = (await cpuOf()) - cpuBefore;
    return {
      n,
      samplesMs: measured,
      baselineSamplesMs: baseline,
      okFraction: started / (n * rounds),
      extra: {
        rounds,
        processes,
        baseline: summarise(baseline),
        coldRound: { started: cold.latencies.length, ...summarise(cold.latencies) },
        commandDelivery: summarise(delivery),
        perRound,
        // Start = the command's path + the receiver's own work: the clock's part and the rest.
        clockError: summarise(clockError),
        fleetCpuMsPerReceiverPerAlert: Number((cpuPerReceiverMs / 1000 / (rounds * n)).toFixed(3)),
        fleetReadyMs: bench.fleetReadyMs,
        controllerRssBytes: system.controller.rssBytes(),
        fleetMemory: await fleet.memory(),
      },
    };
  } finally {
    await observer.close();
    await bench.stop();
  }
}
