// The broker restarts under a connected fleet: how long until every receiver is back
// online (its MQTT session re-established, subscriptions restored) with a good clock
// sync, against the baseline of the same number of plain MQTT clients connecting and
// subscribing to the same broker at once (a connection storm without the agent's
// backoff, state, clock sync or reports).
//
//   npm run bench -- reconnect-storm [--receivers 1000] [--rounds 3] [--down-ms 2000] [--processes 2]

import { STABLE_CONNECTION_MS } from '../../edge-agent/src/link/mqtt-link.js';
import type { BenchOutcome } from '../../scripts/bench.js';
import { FleetWorkers } from '../src/fleet/fleet-workers.js';
import { waitFor } from '../src/harness/free-port.js';
import { summarise } from '../src/metrics/latency.js';
import { defaultProcesses, intOption, say, startBenchFleet } from './fleet-bench.js';

export default async function reconnectStorm(options: Record<string, string>): Promise<BenchOutcome> {
  const n = intOption(options, 'receivers', 1000);
  const rounds = intOption(options, 'rounds', 3);
  const downMs = intOption(options, 'down-ms', 2000);
  const processes = intOption(options, 'processes', defaultProcesses());
  const baseline: number[] = [];
  const bench = await startBenchFleet({
    receivers: n,
    perVillage: 100,
    processes,
    heartbeatMs: 30_000,
    beforeFleet: async (system) => {
      const probe = await FleetWorkers.start([], {
        processes,
        settings: { mqttUrl: system.broker.url, controllerUrl: system.controller.url, trustedKeys: [] },
      });
      try {
        for (let round = 1; round <= rounds; round++) {
          const began = Date.now();
          const raw = await probe.rawSubscribers(`loa-bench/storm/${round}`, n, system.broker.url);
          baseline.push(Date.now() - began);
          await raw.close();
          say(`baseline round ${round}: ${n} plain clients connected and subscribed in ${baseline.at(-1)} ms`);
        }
      } finally {
        await probe.stop();
      }
    },
  });
  const { system, fleet } = bench;
  const samples: number[] = [];
  const perRound = [];
  let recovered = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      await system.broker.down();
      await waitFor(async () => (await fleet.status()).online === 0, 60_000, 100);
      await new Promise((r) => setTimeout(r, downMs));
      await system.broker.up();
      const upAt = Date.now();
      // Each receiver's reconnect time, read off the online count every 100 ms.
      let seen = 0;
      let allOnlineMs: number | null = null;
      let allSyncedMs: number | null = null;
      let resyncedMs: number | null = null;
      await waitFor(
        async () => {
          const s = await fleet.status({ syncedSince: upAt });
          const t = Date.now() - upAt;
          for (; seen < s.online; seen++) samples.push(t);
          if (allOnlineMs === null && s.online === n) allOnlineMs = t;
          if (allSyncedMs === null && s.online === n && s.synced === n) allSyncedMs = t;
          if (resyncedMs === null && (s.syncedSince ?? 0) === n) resyncedMs = t;
          return allSyncedMs !== null && (resyncedMs !== null || t > 70_000);
        },
        130_000,
        100,
      );
      if (allSyncedMs !== null) recovered++;
      perRound.push({ round, allOnlineMs, allOnlineAndSyncedMs: allSyncedMs, allResyncedSinceRestartMs: resyncedMs });
      say(
        `round ${round}: all online after ${allOnlineMs} ms, online and synced after ${allSyncedMs} ms, every clock re-synced after ${resyncedMs} ms`,
      );
      // Receivers forget their backoff only after a stable minute on the broker (so a
      // flapping broker meets slower and slower retries); rounds are that far apart.
      if (round < rounds) await new Promise((r) => setTimeout(r, STABLE_CONNECTION_MS + 5000));
    }
    return {
      n,
      samplesMs: samples,
      baselineSamplesMs: baseline,
      okFraction: recovered / rounds,
      extra: {
        rounds,
        downMs,
        processes,
        perRound,
        recoveryMs: summarise(perRound.map((r) => r.allOnlineAndSyncedMs ?? 130_000)),
        fleetReadyMs: bench.fleetReadyMs,
        controllerRssBytes: system.controller.rssBytes(),
      },
    };
  } finally {
    await bench.stop();
  }
}
