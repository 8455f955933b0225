// One action stops a playing alert everywhere: an Exercise alert (recorded audio, long
// enough to be still playing) is on air on every receiver of the province, then
// POST /alerts/{id}/cancel; measured per receiver from the cancel request being sent to
// the sound stopping (the virtual sink's true time), against the raw broker fan-out of
// the same run (one QoS 1 message to as many plain subscribers on the same broker).
//
//   npm run bench -- alert-cancel [--receivers 1000] [--rounds 3] [--seconds 60] [--ok-ms 10000] [--processes 2]
import type { BenchOutcome } from '../../scripts/bench.js';
import type { FleetWorkers } from '../src/fleet/fleet-workers.js';
import { waitFor } from '../src/harness/free-port.js';
import type { System } from '../src/harness/system.js';
import { summarise } from '../src/metrics/latency.js';
import { firstStarts } from '../src/metrics/play-analysis.js';
import { issueAlert } from '../src/registry/alert-api.js';
import type { ControllerRegistry } from '../src/registry/controller-registry.js';
import { WireObserver } from '../src/scenarios/wire-observer.js';
import {
  defaultProcesses,
  intOption,
  machineCpuMs,
  processCpuMs,
  say,
  startFanoutBench,
  toneAsset,
} from './fleet-bench.js';

interface Round {
  /** Receivers airing the alert when the cancel was sent. */
  airing: number;
  /** Cancel sent → sound stopped, per receiver that stopped (ms). */
  stopped: number[];
  /** Cancel sent → the controller answered; → the cancel command seen on the broker. */
  answerMs: number;
  onWireMs: number | null;
  /** Cancel sent → each receiver's `accepted` acknowledgement, by its own clock. */
  delivery: number[];
  /** Airings of the alert that started after the cancel (there must be none). */
  airedAgain: number;
  /** CPU each part used from the cancel until the last stop (ms), and that window's length. */
  cpu: { machineBusy: number; machineIdle: number; fleet: number; controller: number; broker: number; bench: number };
  windowMs: number;
}

export default async function alertCancel(options: Record<string, string>): Promise<BenchOutcome> {
  const n = intOption(options, 'receivers', 1000);
  const rounds = intOption(options, 'rounds', 3);
  const seconds = intOption(options, 'seconds', 60);
  const okMs = intOption(options, 'ok-ms', 10_000);
  const processes = intOption(options, 'processes', defaultProcesses());
  const bench = await startFanoutBench(n, rounds, processes);
  const { system, fleet, baseline } = bench;
  const observer = await WireObserver.start(system.broker.url);
  try {
    const emergency = await system.as('emergency-lp');
    const approver = await system.as('admin-lp');
    // Recorded audio, so no speech engine is needed, and long enough to be still playing.
    const recording = await toneAsset(emergency, seconds, 660);
    const round = (label: string) => cancelRound(label, { n, system, fleet, observer, emergency, approver, recording });
    // The first alert also fetches its recording to every receiver: reported apart (cold).
    say('cold round: the recording is fetched by every receiver');
    const cold = await round('cold');
    const measured: Round[] = [];
    for (let r = 1; r <= rounds; r++) measured.push(await round(`round ${r}`));
    const stopped = measured.flatMap((r) => r.stopped);
    return {
      n,
      samplesMs: stopped,
      baselineSamplesMs: baseline,
      okFraction: stopped.filter((ms) => ms <= okMs).length / (n * rounds),
      extra: {
        rounds,
        processes,
        recordingSeconds: seconds,
        okWithinMs: okMs,
        baseline: summarise(baseline),
        coldRound: { airing: cold.airing, ...summarise(cold.stopped) },
        perRound: measured.map((r, i) => ({
          round: i + 1,
          airing: r.airing,
          stopped: r.stopped.length,
          ...summarise(r.stopped),
          controllerAnswerMs: r.answerMs,
          cancelOnWireMs: r.onWireMs,
          airedAgain: r.airedAgain,
        })),
        // Where the time goes: the controller's part (the command on the broker) and the
        // receivers' intake (acknowledged) before the stop itself.
        cancelOnWireMs: summarise(measured.flatMap((r) => (r.onWireMs === null ? [] : [r.onWireMs]))),
        commandDelivery: summarise(measured.flatMap((r) => r.delivery)),
        fleetCpuMsPerReceiverPerCancel: Number(
          (measured.reduce((sum, r) => sum + r.cpu.fleet, 0) / (rounds * n)).toFixed(3),
        ),
        // On two cores, a window of W ms has 2W ms of CPU: who used it while the stops went out.
        cpuDuringCancelMs: measured.map((r) => ({ windowMs: r.windowMs, ...r.cpu })),
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

/** Issues an alert to the province, waits until it airs everywhere, cancels it, and times the stops. */
async function cancelRound(
  label: string,
  o: {
    n: number;
    system: System;
    fleet: FleetWorkers;
    observer: WireObserver;
    emergency: ControllerRegistry;
    approver: ControllerRegistry;
    recording: { sha256: string };
  },
): Promise<Round> {
  const { n, fleet, observer } = o;
  const alert = await issueAlert(
    o.emergency,
    {
      status: 'Exercise',
      hazard: 'flash_flood',
      riskLevel: 3,
      headline: { vie: `Diễn tập: cảnh báo lũ quét (${label})` },
      audio: { vie: o.recording.sha256 },
      areas: ['LP'],
    },
    o.approver,
  );
  // The sink's partial records say who is airing it; a cold round may take the whole fetch wait.
  const allAiring = await waitFor(() => firstStarts(fleet.plays, alert.itemId).size >= n, 150_000, 50);
  const starts = firstStarts(fleet.plays, alert.itemId);
  if (!allAiring) say(`${label}: only ${starts.size}/${n} airing the alert; cancelling anyway`);
  // Let the start reports go out, so the cancel meets a fleet that is only playing.
  await new Promise((r) => setTimeout(r, 1000));
  const cpuOf = async () => ({
    fleet: (await fleet.memory()).reduce((sum, w) => sum + w.cpuUserMicros + w.cpuSystemMicros, 0) / 1000,
    controller: processCpuMs(o.system.controller.pid) ?? 0,
    broker: processCpuMs(o.system.broker.pid) ?? 0,
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    machine: machineCpuMs(),
  });
  const cpuBefore = await cpuOf();
  const sentAt = Date.now();
  const answer = await o.emergency.post<{ commands: Array<{ id: string }> }>(`/alerts/${alert.id}/cancel`, {
    reason: 'bench: diễn tập kết thúc',
  });
  const answerMs = Date.now() - sentAt;
  const ended = () =>
    fleet.plays.filter((p) => p.itemId === alert.itemId && p.endedAt !== undefined && p.endedAt >= sentAt);
  await waitFor(() => ended().length >= starts.size, 30_000, 20);
  const cpuAfter = await cpuOf();
  const stopped = ended().map((p) => (p.endedAt as number) - sentAt);
  const s = summarise(stopped);
  say(
    `${label}: ${starts.size}/${n} airing, ${stopped.length} stopped; p50 ${s?.p50_ms} ms, p99 ${s?.p99_ms} ms, max ${s?.max_ms} ms; controller answered in ${answerMs} ms`,
  );
  // The next round starts on a quiet fleet (stop reports sent), and every acknowledgement is in.
  await new Promise((r) => setTimeout(r, 2000));
  const cancelIds = new Set(answer.commands.map((c) => c.id));
  const seen = observer.commands.find((c) => cancelIds.has(commandIdOf(c.payload)));
  const delivery = observer.acks
    .filter((a) => cancelIds.has(a.commandId) && a.result === 'accepted')
    .map((a) => a.at - sentAt);
  const prefix = alert.itemId.replace(/\.\d+$/, '.');
  const airedAgain = fleet.plays.filter((p) => p.itemId.startsWith(prefix) && (p.startedAt ?? 0) > sentAt).length;
  return {
    airing: starts.size,
    stopped,
    answerMs,
    onWireMs: seen ? seen.seenAt - sentAt : null,
    delivery,
    airedAgain,
    cpu: {
      // The rest of the busy time: PostgreSQL and Redis (the controller's writes), the kernel.
      machineBusy: cpuAfter.machine.busy - cpuBefore.machine.busy,
      machineIdle: cpuAfter.machine.idle - cpuBefore.machine.idle,
      fleet: Math.round(cpuAfter.fleet - cpuBefore.fleet),
      controller: cpuAfter.controller - cpuBefore.controller,
      broker: cpuAfter.broker - cpuBefore.broker,
      bench: Math.round(cpuAfter.bench - cpuBefore.bench),
    },
    windowMs: Math.max(0, ...stopped),
  };
}

function commandIdOf(payload: Buffer): string {
  try {
    return String((JSON.parse(payload.toString('utf8')) as { id?: unknown }).id ?? '');
  } catch {
    return '';
  }
}
