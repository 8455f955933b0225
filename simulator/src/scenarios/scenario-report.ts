import cliProgress from 'cli-progress';
import type { RunHooks, ScenarioResult } from './scenario-runner.js';

type Figures = { p50_ms: number; p95_ms: number; p99_ms: number; max_ms: number };

/** A readable summary of a run: one line per expectation, then the measured figures. */
export function formatResult(result: ScenarioResult): string {
  const lines = [
    `${result.passed ? 'PASS' : 'FAIL'}  ${result.name}  (${result.receivers} receivers, ${(result.durationMs / 1000).toFixed(1)} s)`,
  ];
  if (result.error) lines.push(`  error: ${result.error.split('\n').slice(0, 6).join('\n         ')}`);
  for (const e of result.expectations)
    lines.push(`  ${e.status === 'pass' ? '✔' : '✘'} ${e.expectation}\n      ${e.detail}`);
  const m = result.metrics as {
    items?: Record<
      string,
      {
        startLatency?: Figures | null;
        skewByVillage?: Figures | null;
        clockError?: Figures | null;
        lateness?: Figures | null;
        started: number;
        expected: number;
      }
    >;
    timeToFlagOffline?: { p50_ms: number; max_ms: number } | null;
    reconnectStorms?: Array<{ recoveredMs: number | null; resyncedMs: number | null }>;
    controllerRssBytes?: number | null;
    fleetReadyMs?: number;
  };
  if (m.fleetReadyMs !== undefined) lines.push(`  fleet online and synced in ${m.fleetReadyMs} ms`);
  for (const [id, item] of Object.entries(m.items ?? {})) {
    const l = item.startLatency;
    const s = item.skewByVillage;
    lines.push(
      `  ${id}: ${item.started}/${item.expected} started` +
        (l ? `; start after trigger/airtime p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, max ${l.max_ms} ms` : '') +
        (s ? `; skew in a village p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, max ${s.max_ms} ms` : '') +
        (item.clockError ? `; clock error p50 ${item.clockError.p50_ms} ms, p95 ${item.clockError.p95_ms} ms` : '') +
        (item.lateness ? `; lateness by own clock p50 ${item.lateness.p50_ms} ms, p95 ${item.lateness.p95_ms} ms` : ''),
    );
  }
  if (m.timeToFlagOffline)
    lines.push(`  flagged offline after p50 ${m.timeToFlagOffline.p50_ms} ms, max ${m.timeToFlagOffline.max_ms} ms`);
  for (const r of m.reconnectStorms ?? [])
    lines.push(
      `  broker restart: all back online and synced after ${r.recoveredMs ?? 'never (within 2 min)'} ms; ` +
        (r.resyncedMs === null ? 'recent clock syncs kept' : `every clock re-synced after ${r.resyncedMs} ms`),
    );
  if (m.controllerRssBytes) lines.push(`  controller memory ${(m.controllerRssBytes / 2 ** 20).toFixed(0)} MiB`);
  return lines.join('\n');
}

/** Progress on stderr: a bar on a terminal, a line per phase elsewhere (CI logs). */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  progress: NonNullable<RunHooks['progress']>;
  done: () => void;
} {
  if (!stream.isTTY) {
    let last = '';
    return {
      progress: ({ phase, done, total }) => {
        const step = `${phase}`;
        if (step !== last || done === total) {
          if (step !== last) stream.write(`sim: ${phase} ${done}/${total}\n`);
          last = step;
        }
      },
      done: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'sim: {phase} [{bar}] {value}/{total}', stream, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    progress: ({ phase, done, total }) => {
      if (!started) {
        bar.start(total, done, { phase });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { phase });
    },
    done: () => bar.stop(),
  };
}
