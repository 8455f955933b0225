// Live speech, capture to speaker: a client speaks a generated WAV into a live session
// through the audio WebSocket in real time (20 ms chunks, as a browser does), to every
// receiver of a generated province (real agents, the agent's live renderer on a virtual
// sound card); measured per frame per receiver from the moment the client captured it to
// the true time the receiver's speakers played it. Twice: with no packet lost, then with
// each receiver's link losing a share of the live packets (at random, per packet).
// Baseline: the raw broker fan-out of a live-packet-sized QoS 0 message to as many plain
// subscribers on the same broker, in the fleet's worker processes, in the same run.
//
//   npm run bench -- live-latency [--receivers 50] [--seconds 20] [--processes 2] [--loss 5] [--latency 250]
import { decodeLivePacket, parseTopic, TrustedKeySet, topicFilter } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchOutcome } from '../../scripts/bench.js';
import { decodeWav16, encodeWav16 } from '../src/audio/wav-file.js';
import type { FleetWorkers } from '../src/fleet/fleet-workers.js';
import type { LiveRecord } from '../src/fleet/live-record.js';
import { waitFor } from '../src/harness/free-port.js';
import { summarise } from '../src/metrics/latency.js';
import { analyseLiveSession } from '../src/metrics/live-analysis.js';
import { toneSequence } from '../src/metrics/tones.js';
import { defaultProcesses, intOption, say, startBenchFleet } from './fleet-bench.js';
import { CHUNK_MS, type PushedSession, pushLive } from './live-push-client.js';

/** Target: capture → speaker p95 at no loss. */
const TARGET_P95_MS = 300;
/** Baseline messages, sent at the live packet rate (three 20 ms frames a packet). */
const BASELINE_MESSAGES = 100;
const PACKET_INTERVAL_MS = 60;
/** Between sessions: longer than the amplifier's hold (5 s), so each session starts with it off, as speeches do. */
const BETWEEN_SESSIONS_MS = 6000;

/** A live packet seen on the broker by the bench's own subscriber. */
interface WirePacket {
  sessionId: string;
  seq: number;
  captureTs: number;
  frames: number;
  bytes: number;
  arrivedAt: number;
}

/** Watches every session's live audio on the broker, verifying each packet as a receiver would. */
async function watchLiveWire(url: string, keys: TrustedKeySet): Promise<{ packets: WirePacket[]; client: MqttClient }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clean: true });
  const packets: WirePacket[] = [];
  client.on('message', (topic, payload) => {
    const arrivedAt = Date.now();
    const parsed = parseTopic(topic);
    if (parsed?.name !== 'liveAudio') return;
    const check = decodeLivePacket(payload, parsed.sessionId, keys);
    if (!check.ok) return;
    const { seq, captureTs, frames } = check.packet;
    packets.push({
      sessionId: parsed.sessionId,
      seq,
      captureTs,
      frames: frames.length,
      bytes: payload.length,
      arrivedAt,
    });
  });
  await client.subscribeAsync(topicFilter('liveAudio'), { qos: 0 });
  return { packets, client };
}

interface RunResult {
  label: string;
  loss: number;
  session: PushedSession;
  records: LiveRecord[];
  /** Client capture → true heard time, per frame heard per receiver (ms). */
  latencies: number[];
  extra: Record<string, unknown>;
}

export default async function liveLatency(options: Record<string, string>): Promise<BenchOutcome> {
  const n = intOption(options, 'receivers', 50);
  const seconds = intOption(options, 'seconds', 20);
  const processes = intOption(options, 'processes', defaultProcesses());
  const lossPercent = intOption(options, 'loss', 5);
  const latencyMs = intOption(options, 'latency', 250);
  if (lossPercent > 100) throw new Error(`--loss is a percentage, not ${lossPercent}`);
  const bench = await startBenchFleet({
    receivers: n,
    perVillage: 25,
    processes,
    heartbeatMs: 30_000,
    // Clocks off by up to ±500 ms and drifting: playing in step is the clock sync's work.
    offsetMs: () => Math.round((Math.random() * 2 - 1) * 500),
    driftPpm: 50,
  });
  const { system, fleet } = bench;
  const wire = await watchLiveWire(system.broker.url, new TrustedKeySet(await bench.registry.trustedKeys()));
  try {
    const speaker = await system.as('emergency-lp');
    const { token } = await speaker.post<{ token: string }>('/auth/tokens', { name: 'live-latency bench' });
    const province = await speaker.get<{ id: string }>('/areas/LP');
    const api = { url: system.controller.url, token };
    // A generated recording, through a WAV as a speaker's file would be: a tone a second.
    const tones = Array.from({ length: seconds }, (_, i) => ({ hz: 400 + 200 * (i % 8), seconds: 1 }));
    const samples = decodeWav16(encodeWav16({ sampleRate: 48_000, samples: toneSequence(tones, 48_000) })).samples;
    const run = async (label: string, loss: number): Promise<RunResult> => {
      const before = await fleet.setLivePacketLoss(loss);
      say(`${label}: speaking ${seconds} s live to ${n} receivers (${Math.round(loss * 100)} % of live packets lost)`);
      const session = await pushLive(api, { areaIds: [province.id], title: `bench ${label}`, latencyMs, samples });
      const all = await waitFor(() => recordsOf(fleet, session.sessionId).length >= n, 20_000, 100);
      if (!all) say(`${label}: only ${recordsOf(fleet, session.sessionId).length}/${n} receivers reported the session`);
      const after = await fleet.setLivePacketLoss(0);
      const lost = { passed: after.passed - before.passed, dropped: after.dropped - before.dropped };
      return measureRun(label, loss, session, recordsOf(fleet, session.sessionId), wire.packets, lost);
    };
    // The first session in each worker compiles the live path (wasm decoder, JIT): not
    // measured, as the alert benchmarks' cold round is not.
    const warm = await pushLive(api, {
      areaIds: [province.id],
      title: 'bench warm-up',
      latencyMs,
      samples: samples.subarray(0, 3 * 48_000),
    });
    await waitFor(() => recordsOf(fleet, warm.sessionId).length >= n, 20_000, 100);
    await new Promise((resolve) => setTimeout(resolve, BETWEEN_SESSIONS_MS));
    const clean = await run('no loss', 0);
    await new Promise((resolve) => setTimeout(resolve, BETWEEN_SESSIONS_MS));
    const lossy = await run(`${lossPercent} % loss`, lossPercent / 100);
    const bytes = median(wire.packets.filter((p) => p.frames === 3).map((p) => p.bytes));
    say(`baseline: raw fan-out of a ${bytes}-byte QoS 0 message to ${n} subscribers, ${BASELINE_MESSAGES} messages`);
    const baseline = await rawLiveFanout(fleet, system.broker.url, n, bytes);
    const chunks = clean.session.capturedAt.length;
    const onTime = clean.latencies.filter((ms) => ms <= TARGET_P95_MS).length;
    const p95 = summarise(clean.latencies)?.p95_ms ?? null;
    say(`no loss: capture → speaker p95 ${p95} ms (target ${TARGET_P95_MS} ms)`);
    return {
      n,
      samplesMs: clean.latencies,
      baselineSamplesMs: baseline.samples,
      // Of every frame spoken, on every receiver: heard within the target.
      okFraction: Number((onTime / (chunks * n)).toFixed(4)),
      extra: {
        receivers: n,
        seconds,
        processes,
        latencyMs,
        targetP95Ms: TARGET_P95_MS,
        targetMet: p95 !== null && p95 <= TARGET_P95_MS,
        livePacketBytes: bytes,
        baseline: { ...summarise(baseline.samples), lost: baseline.lost, messages: BASELINE_MESSAGES },
        runs: [clean.extra, lossy.extra],
        fleetReadyMs: bench.fleetReadyMs,
        controllerRssBytes: system.controller.rssBytes(),
        fleetMemory: await fleet.memory(),
      },
    };
  } finally {
    await wire.client.endAsync().catch(() => {});
    await bench.stop();
  }
}

function recordsOf(fleet: FleetWorkers, sessionId: string): LiveRecord[] {
  return fleet.lives.filter((r) => r.sessionId === sessionId);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Min, median, p95 and max of values that may be negative (the HDR summary takes none). */
function signedSpread(values: readonly number[]) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number);
  return { count: sorted.length, min_ms: round(sorted[0] as number), p50_ms: at(0.5), p95_ms: at(0.95), max_ms: at(1) };
}

function measureRun(
  label: string,
  loss: number,
  session: PushedSession,
  records: LiveRecord[],
  packets: readonly WirePacket[],
  lost: { passed: number; dropped: number },
): RunResult {
  const own = packets.filter((p) => p.sessionId === session.sessionId && p.frames > 0);
  const first = own.reduce((min, p) => Math.min(min, p.captureTs), Number.POSITIVE_INFINITY);
  // Frame j of the session's timeline is chunk j of the client: the controller stamps the
  // first chunk with its arrival less its length and lays every later frame after it.
  const chunkOf = (captureTs: number) => Math.round((captureTs - first) / CHUNK_MS);
  const latencies: number[] = [];
  let unmatched = 0;
  for (const r of records) {
    const { captureTs, heardAt, concealed } = r.frames;
    for (let i = 0; i < captureTs.length; i++) {
      if (concealed[i]) continue;
      const captured = session.capturedAt[chunkOf(captureTs[i] as number)];
      if (captured === undefined) unmatched++;
      else latencies.push((heardAt[i] as number) - captured);
    }
  }
  // The controller's stamp against the client's capture, per frame sent.
  const stamping: number[] = [];
  for (const p of own)
    for (let k = 0; k < p.frames; k++) {
      const captured = session.capturedAt[chunkOf(p.captureTs + k * CHUNK_MS)];
      if (captured !== undefined) stamping.push(p.captureTs + k * CHUNK_MS - captured);
    }
  const a = analyseLiveSession(records);
  const slots = a.frames.heard + a.frames.concealed;
  const latency = summarise(latencies);
  const skippedAtStart = records.reduce((sum, r) => sum + (r.counters?.skipped ?? 0), 0);
  say(
    `${label}: ${records.length} receivers, ${latencies.length} frames heard; capture → speaker p50 ${latency?.p50_ms} / p95 ${latency?.p95_ms} / p99 ${latency?.p99_ms} ms; ` +
      `concealed ${((a.frames.concealed / Math.max(1, slots)) * 100).toFixed(2)} %, per-frame skew p95 ${summarise(a.frameSkews)?.p95_ms} ms`,
  );
  return {
    label,
    loss,
    session,
    records,
    latencies,
    extra: {
      run: label,
      sessionId: session.sessionId,
      packetLossSet: loss,
      // What the links actually lost (every live packet every receiver got).
      packetLossMeasured: Number((lost.dropped / Math.max(1, lost.passed + lost.dropped)).toFixed(4)),
      receiversReported: records.length,
      finished: records.filter((r) => r.result === 'finished').length,
      notFinished: records
        .filter((r) => r.result !== 'finished')
        .map((r) => ({ receiverId: r.receiverId, result: r.result, reason: r.reason ?? null })),
      chunksSent: session.capturedAt.length,
      framesHeard: a.frames.heard,
      // Slots played: heard frames and concealments (PLC in place of lost or late ones).
      concealedFraction: Number((a.frames.concealed / Math.max(1, slots)).toFixed(4)),
      lateFraction: Number((a.frames.late / Math.max(1, a.frames.received)).toFixed(4)),
      // Frames whose time had passed before a receiver's stream started (warm-up + chime still sounding).
      skippedAtStartPerReceiver: Number((skippedAtStart / Math.max(1, records.length)).toFixed(1)),
      captureToSpeaker: latency,
      // The part the controller's captureTs accounts for (heard − captureTs): latencyMs by design.
      captureTsToSpeaker: summarise(a.latencies),
      firstFrameLatency: summarise(a.firstFrameLatencies),
      firstHeardSpreadMs: a.firstHeardSpreadMs === null ? null : round(a.firstHeardSpreadMs),
      perFrameSkew: summarise(a.frameSkews),
      // A receiver's own error: true heard time − when it meant to play it (its clock sync and lateness).
      playoutError: summarise(a.playoutErrors.map(Math.abs)),
      // Of which the clock sync's share: each receiver's error at its first frame (|its controller time − true|) ...
      clockError: summarise(a.clockErrors.map(Math.abs)),
      // ... and the live path's own: how late each frame was by its receiver's own clock.
      lateness: summarise(a.lateness.map(Math.abs)),
      // Signed (a chunk the client sent late is stamped on the timeline, ahead of its send).
      controllerStampMinusClientCapture: signedSpread(stamping),
      // First frame captured → its packet on the broker (packet filling, encoding, signing, publishing).
      captureTsToWire: summarise(own.map((p) => p.arrivedAt - p.captureTs)),
      underruns: a.underruns,
      unmatchedFrames: unmatched,
      controllerStats: session.stats ?? null,
    },
  };
}

/**
 * The raw broker fan-out of live audio: `n` plain mqtt.js subscribers (QoS 0) in the
 * fleet's worker processes, one publisher; `BASELINE_MESSAGES` messages of a live
 * packet's size, one every PACKET_INTERVAL_MS; latency is publish → arrival per
 * subscriber per message.
 */
async function rawLiveFanout(
  fleet: FleetWorkers,
  url: string,
  n: number,
  bytes: number,
): Promise<{ samples: number[]; lost: number }> {
  const topic = `loa-bench/live/${Date.now()}`;
  const raw = await fleet.rawSubscribers(topic, n, url, 0);
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const samples: number[] = [];
  let seen = 0;
  let lost = 0;
  try {
    const payload = Buffer.alloc(Math.max(1, bytes), 0x4c);
    for (let i = 0; i < BASELINE_MESSAGES; i++) {
      const sentAt = Date.now();
      await publisher.publishAsync(topic, payload, { qos: 0 });
      let arrivals: number[] = [];
      await waitFor(
        async () => {
          arrivals = await raw.arrivals();
          return arrivals.length >= seen + n;
        },
        2000,
        5,
      );
      const fresh = arrivals.slice(seen);
      lost += Math.max(0, n - fresh.length);
      samples.push(...fresh.map((at) => at - sentAt));
      seen = arrivals.length;
      const wait = sentAt + PACKET_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    await publisher.endAsync();
    await raw.close();
  }
  return { samples, lost };
}
