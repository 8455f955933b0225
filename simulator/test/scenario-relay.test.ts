import { readFile } from 'node:fs/promises';
import { oggOpusFile, sine } from '@loa/edge-agent';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeWav16 } from '../src/audio/wav-file.js';
import type { LiveRecord } from '../src/fleet/live-record.js';
import { waitFor } from '../src/harness/free-port.js';
import { vietnamLocal } from '../src/harness/vietnam-time.js';
import { analyseLiveSession } from '../src/metrics/live-analysis.js';
import { dominantTones, type ToneRun, toneRuns } from '../src/metrics/tones.js';
import { expectInStep } from './support/live-checks.js';
import { type LiveFleet, startLiveFleet } from './support/live-fleet.js';
import { mp3Tone, ToneStation } from './support/tone-station.js';

// A scheduled relay of a radio stream, end to end: a local station streams an MP3 tone in
// real time; a relay schedule (its content the fallback, another tone) airs it to the six
// receivers of a commune for 20 s. The station crashes mid-window: every receiver turns
// to the fallback within the dead-air time; it comes back: every receiver hears the stream
// again. The controller retries the stream every second here (RELAY_RETRY_S=1).
const STREAM_HZ = 440;
const FALLBACK_HZ = 1000;
const RATE = 48_000;
const DEAD_AIR_S = 3;
const WINDOW_MS = 20_000;

let live: LiveFleet;
let station: ToneStation;
let occurrenceId: string;
let scheduleId: string;
let killedAt: number;
let backAt: number;
let records: LiveRecord[];

beforeAll(async () => {
  station = new ToneStation(mp3Tone(STREAM_HZ, 10), 10);
  await station.listen();
  live = await startLiveFleet({
    province: { receivers: 6, perVillage: 3, villagesPerCommune: 2 },
    controllerEnv: { RELAY_RETRY_S: '1', RELAY_TIMEOUT_S: '3' },
  });
  const admin = await live.system.as('admin-lp');
  const official = await live.system.as('official-lp-d1-c1');
  const fallback = await admin.uploadAsset(oggOpusFile(sine(FALLBACK_HZ, 8, 0.4)));
  const content = await official.post<{ id: string }>('/content', {
    title: 'Nhạc chờ tiếp sóng',
    category: 'announcement',
    ownerArea: 'LP-D1-C1',
    variants: [{ language: 'vie', assetSha256: fallback.sha256 }],
  });
  const airtime = Math.ceil((Date.now() + 3000) / 1000) * 1000;
  const schedule = await official.post<{ id: string }>('/schedules', {
    title: 'Tiếp sóng đài tỉnh',
    contentId: content.id,
    startLocal: vietnamLocal(airtime),
    durationMs: WINDOW_MS,
    priority: 'normal',
    startMode: 'hard',
    prelude: 'none',
    volume: 80,
    targets: { areas: ['LP-D1-C1'] },
    acceptConflicts: true,
    relayUrl: station.url,
    deadAirS: DEAD_AIR_S,
  });
  scheduleId = schedule.id;
  const deliveries = await official.get<{ items: Array<{ occurrenceId: string }> }>(
    `/deliveries?schedule=${schedule.id}&limit=1`,
  );
  occurrenceId = deliveries.items[0]?.occurrenceId as string;
  // The stream for 6 s of the window, the station down for 4 s, then back to the end.
  await sleepUntil(airtime + 6000);
  killedAt = Date.now();
  await station.kill();
  await sleepUntil(airtime + 10_000);
  backAt = Date.now();
  await station.listen();
  await waitFor(
    () => live.fleet.lives.filter((r) => r.sessionId === occurrenceId).length >= live.specs.length,
    WINDOW_MS + 15_000,
    200,
  );
  records = live.fleet.lives.filter((r) => r.sessionId === occurrenceId);
}, 120_000);

afterAll(async () => {
  await live?.stop();
  await station?.kill();
});

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

/** The tone runs of a receiver's recording, with their true start times. */
async function heardRuns(record: LiveRecord): Promise<Array<ToneRun & { at: number }>> {
  const wav = decodeWav16(await readFile(record.wavPath as string), record.wavPath);
  return toneRuns(dominantTones(wav.samples, RATE, [STREAM_HZ, FALLBACK_HZ]), 3).map((run) => ({
    ...run,
    at: (record.audioStartedAt as number) + run.startMs,
  }));
}

it('every receiver of the commune played the relay to the end of its window', () => {
  expect(records.map((r) => r.receiverId).sort()).toEqual(live.specs.map((s) => s.receiverId).sort());
  for (const r of records) expect(r.result, `${r.receiverId}: ${r.reason ?? ''}`).toBe('finished');
});

it('each receiver heard the stream, the fallback while the station was down, then the stream again', async () => {
  for (const r of records) {
    expect(r.wavError).toBeUndefined();
    const runs = await heardRuns(r);
    const detail = `${r.receiverId}: ${JSON.stringify(runs.map((x) => ({ hz: x.hz, afterKillMs: Math.round(x.at - killedAt), s: x.windows / 10 })))}`;
    expect(
      runs.map((x) => x.hz),
      detail,
    ).toEqual([STREAM_HZ, FALLBACK_HZ, STREAM_HZ]);
    const [stream, fallback, back] = runs as Array<ToneRun & { at: number }> as [
      ToneRun & { at: number },
      ToneRun & { at: number },
      ToneRun & { at: number },
    ];
    // The station's connection closing is dead air at once, once the relay's reader has
    // played what it had buffered (the station's opening burst: up to 2 s); what the
    // villages hear between the stream and the fallback is at most the dead-air time.
    expect(fallback.at - killedAt, detail).toBeGreaterThan(0);
    expect(fallback.at - killedAt, detail).toBeLessThan(DEAD_AIR_S * 1000 + 2000);
    expect(fallback.at - (stream.at + stream.windows * 100), detail).toBeLessThanOrEqual(DEAD_AIR_S * 1000);
    // Back after a retry (every second) has brought 2 s of sound, plus the latency.
    expect(back.at - backAt, detail).toBeGreaterThan(1500);
    expect(back.at - backAt, detail).toBeLessThan(6000);
  }
});

it('the receivers played the relay in step', () => {
  expect(analyseLiveSession(records).frameSkews.length).toBeGreaterThan(500);
  expectInStep(records, 'relay');
});

it('the live session is the occurrence, fell back once, and its deliveries show every receiver finished', async () => {
  const official = await live.system.as('official-lp-d1-c1');
  const session = await official.get<{ kind: string; fallbacks: number; endReason: string | null; state: string }>(
    `/live/sessions/${occurrenceId}`,
  );
  expect(session).toMatchObject({ kind: 'relay', fallbacks: 1, state: 'ended', endReason: 'relay_window_end' });
  type Delivery = { receiverId: string; state: string; startedAt: string | null; finishedAt: string | null };
  let deliveries: Delivery[] = [];
  await waitFor(async () => {
    deliveries = (await official.get<{ items: Delivery[] }>(`/deliveries?occurrence=${occurrenceId}&limit=100`)).items;
    return deliveries.length === live.specs.length && deliveries.every((d) => d.state === 'finished');
  }, 10_000);
  expect(deliveries.map((d) => [d.receiverId, d.state]).sort()).toEqual(
    live.specs.map((s) => [s.receiverId, 'finished']).sort(),
  );
  for (const d of deliveries) expect(d.startedAt && d.finishedAt, d.receiverId).toBeTruthy();
  const bySchedule = await official.get<{ items: Delivery[] }>(`/deliveries?schedule=${scheduleId}&limit=100`);
  expect(bySchedule.items.filter((d) => d.state === 'finished')).toHaveLength(live.specs.length);
});
