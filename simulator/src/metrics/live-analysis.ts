import type { LiveRecord } from '../fleet/live-record.js';

/** What a fleet heard of one live session, worked out from its receivers' live records. */
export interface LiveSessionAnalysis {
  receivers: number;
  /** Capture → true heard time of every stream frame heard (not concealed), over all receivers (ms). */
  latencies: number[];
  /** Each receiver's first stream frame: heard − captured (ms). */
  firstFrameLatencies: number[];
  /** First stream frame heard, true time, latest − earliest over the receivers (ms). */
  firstHeardSpreadMs: number | null;
  /** Per frame heard by two receivers or more: latest − earliest true heard time (ms). */
  frameSkews: number[];
  /** Receiver's own error per frame: true heard time − the time it meant to play it (ms; its clock sync plus its lateness). */
  playoutErrors: number[];
  /** Each receiver's clock-sync error at its first frame: its controller time − true time (ms). */
  clockErrors: number[];
  /**
   * Per frame heard: how late the receiver played it by its own clock (true heard time −
   * when it meant to play it + its clock error; ms): the live path's own timing, the clock
   * sync's error taken out.
   */
  lateness: number[];
  /** Frames heard, concealed, and the jitter buffer's late and missing counts, summed over the receivers. */
  frames: { heard: number; concealed: number; late: number; missing: number; received: number };
  /**
   * Times a receiver's sound card ran dry once its stream had started (a gap in the
   * sound), and the silence they made (ms), over the receivers. The wait between the
   * chime and the first frame is not counted.
   */
  underruns: { count: number; totalMs: number };
}

/** The frame a receiver heard first, by true time (not a concealment), or undefined. */
export function firstFrame(record: LiveRecord): { captureTs: number; heardAt: number } | undefined {
  const i = record.frames.concealed.indexOf(0);
  if (i < 0) return undefined;
  return { captureTs: record.frames.captureTs[i] as number, heardAt: record.frames.heardAt[i] as number };
}

/** Frames are matched across receivers by capture time, to the millisecond. */
const slotKey = (captureTs: number) => Math.round(captureTs);

export function analyseLiveSession(records: readonly LiveRecord[]): LiveSessionAnalysis {
  const latencies: number[] = [];
  const firstFrameLatencies: number[] = [];
  const firstHeard: number[] = [];
  const playoutErrors: number[] = [];
  const clockErrors: number[] = [];
  const lateness: number[] = [];
  const bySlot = new Map<number, { min: number; max: number; n: number }>();
  const frames = { heard: 0, concealed: 0, late: 0, missing: 0, received: 0 };
  const underruns = { count: 0, totalMs: 0 };
  for (const record of records) {
    const { captureTs, heardAt, playoutAt, concealed } = record.frames;
    for (let i = 0; i < captureTs.length; i++) {
      if (concealed[i]) {
        frames.concealed++;
        continue;
      }
      frames.heard++;
      const heard = heardAt[i] as number;
      latencies.push(heard - (captureTs[i] as number));
      playoutErrors.push(heard - (playoutAt[i] as number));
      if (record.clockErrorMs !== undefined) lateness.push(heard - (playoutAt[i] as number) + record.clockErrorMs);
      const key = slotKey(captureTs[i] as number);
      const slot = bySlot.get(key);
      if (slot) {
        slot.min = Math.min(slot.min, heard);
        slot.max = Math.max(slot.max, heard);
        slot.n++;
      } else bySlot.set(key, { min: heard, max: heard, n: 1 });
    }
    const first = firstFrame(record);
    if (first) {
      firstFrameLatencies.push(first.heardAt - first.captureTs);
      firstHeard.push(first.heardAt);
    }
    if (record.clockErrorMs !== undefined) clockErrors.push(record.clockErrorMs);
    frames.late += record.counters?.late ?? 0;
    frames.missing += record.counters?.missing ?? 0;
    frames.received += record.counters?.received ?? 0;
    for (const u of record.underruns)
      if (first && u.at >= first.heardAt) {
        underruns.count++;
        underruns.totalMs += u.ms;
      }
  }
  const frameSkews = [...bySlot.values()].filter((s) => s.n >= 2).map((s) => s.max - s.min);
  return {
    receivers: records.length,
    latencies,
    firstFrameLatencies,
    firstHeardSpreadMs: firstHeard.length > 0 ? Math.max(...firstHeard) - Math.min(...firstHeard) : null,
    frameSkews,
    playoutErrors,
    clockErrors,
    lateness,
    frames,
    underruns,
  };
}
