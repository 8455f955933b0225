import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeWav16, encodeWav16 } from '../src/audio/wav-file.js';
import type { LiveRecord } from '../src/fleet/live-record.js';
import { waitFor } from '../src/harness/free-port.js';
import { summarise } from '../src/metrics/latency.js';
import { analyseLiveSession, firstFrame } from '../src/metrics/live-analysis.js';
import { dominantTones, toneRuns, toneSequence } from '../src/metrics/tones.js';
import { pushLiveWithCli } from '../src/scenarios/live-cli-push.js';
import { expectInStep } from './support/live-checks.js';
import { type LiveFleet, startLiveFleet } from './support/live-fleet.js';

// Live speech end to end: an official of a commune pushes a recording live with the
// controller's CLI and an API token; 10 receivers in the commune's two villages (real
// agents, real live renderer, a virtual sound card) play it in step, 2 receivers of
// another commune hear nothing. The recording is four tones in a row, so what each
// receiver played can be checked by ear: the same tones, in order.
const TONES = [500, 1000, 1500, 2000];
const LATENCY_MS = 250;
const RATE = 48_000;

let live: LiveFleet;
let targeted: string[];
let others: string[];
let sessionId: string;
let records: LiveRecord[];
let cliOutput: string;

beforeAll(async () => {
  live = await startLiveFleet({ province: { receivers: 12, perVillage: 5, villagesPerCommune: 2 } });
  targeted = live.under('LP-D1-C1');
  others = live.under('LP-D1-C2');
  const official = await live.system.as('official-lp-d1-c1');
  const { token } = await official.post<{ token: string }>('/auth/tokens', { name: 'live scenario' });
  const wavPath = join(live.wavDir, 'speech.wav');
  await writeFile(
    wavPath,
    encodeWav16({
      sampleRate: RATE,
      samples: toneSequence(
        TONES.map((hz) => ({ hz, seconds: 1 })),
        RATE,
      ),
    }),
  );
  const pushed = await pushLiveWithCli({
    controllerUrl: live.system.controller.url,
    token,
    wavPath,
    areas: ['LP-D1-C1'],
    latencyMs: LATENCY_MS,
    title: 'Họp thôn tối nay',
  });
  sessionId = pushed.sessionId;
  cliOutput = pushed.stdout;
  // Each receiver's record comes once the session has ended there (the last packet played out).
  await waitFor(() => live.fleet.lives.filter((r) => r.sessionId === sessionId).length >= targeted.length, 15_000);
  records = live.fleet.lives.filter((r) => r.sessionId === sessionId);
}, 120_000);

afterAll(async () => {
  await live?.stop();
});

it('has the setting it claims: 10 receivers in two villages of one commune, 2 in another commune', () => {
  expect(targeted).toHaveLength(10);
  expect(new Set(targeted.map((id) => live.specs.find((s) => s.receiverId === id)?.areas.at(-1)?.areaCode)).size).toBe(
    2,
  );
  expect(others).toHaveLength(2);
});

it('every targeted receiver played the session to its end, and no other receiver played it', () => {
  expect(cliOutput).toMatch(/receivers: 10 finished/);
  expect(records.map((r) => r.receiverId).sort()).toEqual([...targeted].sort());
  for (const r of records) expect(r.result, `${r.receiverId}: ${r.reason ?? ''}`).toBe('finished');
  const heardByOthers = [...live.fleet.lives, ...live.fleet.plays].filter(
    (r) => others.includes(r.receiverId) && ('sessionId' in r ? r.sessionId : r.itemId) === sessionId,
  );
  expect(heardByOthers).toEqual([]);
});

it("each receiver's recording decodes and holds the four tones in order", async () => {
  for (const r of records) {
    expect(r.wavError).toBeUndefined();
    const wav = decodeWav16(await readFile(r.wavPath as string), r.wavPath);
    expect(wav.sampleRate).toBe(RATE);
    // The recording starts with the chime; the stream starts at the first frame heard.
    const first = firstFrame(r);
    expect(first, r.receiverId).toBeDefined();
    const from = Math.round((((first?.heardAt ?? 0) - (r.audioStartedAt ?? 0)) * RATE) / 1000);
    expect(from).toBeGreaterThan(RATE); // at least a second of chime first
    const stream = wav.samples.subarray(from);
    const runs = toneRuns(dominantTones(stream, RATE, TONES));
    expect(
      runs.map((run) => run.hz),
      r.receiverId,
    ).toEqual(TONES);
    // Whole tones: the three after the first last their full second (± a window).
    for (const run of runs.slice(1))
      expect(Math.abs(run.windows - 10), `${r.receiverId} ${run.hz} Hz`).toBeLessThanOrEqual(1);
    // The stream's sound lasts as long as the recording sent, less what was skipped at the start.
    expect(stream.length / RATE).toBeGreaterThan(3.2);
    expect(stream.length / RATE).toBeLessThan(4.5);
  }
});

it('every receiver started within the latency budget, and all played in step', () => {
  const a = analyseLiveSession(records);
  const detail = JSON.stringify({
    firstFrameLatencies: a.firstFrameLatencies.map(Math.round),
    latency: summarise(a.latencies),
  });
  expect(a.firstFrameLatencies, detail).toHaveLength(10);
  for (const ms of a.firstFrameLatencies) {
    // Frames are heard captureTs + latency later on controller time, which is this machine's.
    expect(ms, detail).toBeGreaterThan(LATENCY_MS - 10);
    expect(ms, detail).toBeLessThanOrEqual(LATENCY_MS + 30);
  }
  expect(summarise(a.latencies)?.p95_ms ?? Number.POSITIVE_INFINITY, detail).toBeLessThanOrEqual(LATENCY_MS + 30);
  // Almost every frame was heard by all ten: the skew is measured on the whole stream.
  expect(a.frameSkews.length, detail).toBeGreaterThan(150);
  expectInStep(records, 'live speech');
});

it('no speech is lost at the start: every receiver is ready before the first frame is due', () => {
  // A receiver still warming its amplifier up or sounding the chime when the first frames
  // are due skips them (it joins in step, but what was said first is never heard): the
  // session's on-air lead must cover the receivers' warm-up and chime.
  const skipped = records.map((r) => ({
    receiverId: r.receiverId,
    skippedFrames: r.counters?.skipped ?? -1,
    readyAfterMs: Math.round((r.audioStartedAt ?? 0) - r.renderStartedAt + 1500),
  }));
  expect(
    skipped.filter((s) => s.skippedFrames !== 0),
    'frames skipped at the start (readyAfterMs: amplifier warm-up + chime after live.start arrived)',
  ).toEqual([]);
});

it('nothing was concealed or late with no packet lost', () => {
  const a = analyseLiveSession(records);
  expect(a.frames.concealed).toBe(0);
  expect(a.frames.late).toBe(0);
  expect(a.frames.heard).toBeGreaterThan(10 * 150);
});

it("the controller's live deliveries say every targeted receiver finished", async () => {
  const official = await live.system.as('official-lp-d1-c1');
  const answer = await official.get<{
    counts: Record<string, number>;
    items: Array<{ receiverId: string; state: string }>;
  }>(`/live/sessions/${sessionId}/deliveries`);
  expect(answer.counts).toEqual({ finished: 10 });
  expect(answer.items.map((d) => d.receiverId).sort()).toEqual([...targeted].sort());
});
