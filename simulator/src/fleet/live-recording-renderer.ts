import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LIVE_SAMPLE_RATE,
  type LiveFrameHeard,
  type LiveSession,
  type LiveSessionLookup,
  type Renderer,
  type RenderOutcome,
  type RenderProgress,
} from '@loa/edge-agent';
import type { PlayableItem } from '@loa/protocols';
import { encodeWav16 } from '../audio/wav-file.js';
import type { LiveRecord } from './live-record.js';
import type { VirtualSoundCard, VirtualSoundOutput } from './virtual-sound-card.js';

export interface LiveRecordingOptions {
  receiverId: string;
  /** The receiver's live sessions (to read each one's frame length and counters). */
  sessions: LiveSessionLookup;
  /** The sound card the live renderer writes to. */
  card: VirtualSoundCard;
  record: (record: LiveRecord) => void;
  /** Where `<sessionId>/<receiverId>.wav` is written (the card must capture). */
  wavDir?: string;
  trueNow?: () => number;
  /** The receiver's idea of controller time (its clock sync), to tell its clock error from its lateness. */
  controllerTime?: () => number;
}

/** One session being heard: the frames so far. */
class Take {
  readonly captureTs: number[] = [];
  readonly heardAt: number[] = [];
  readonly playoutAt: number[] = [];
  readonly concealed: number[] = [];
  clockErrorMs: number | undefined;

  constructor(readonly frameSamples: number) {}
}

/**
 * Wraps the edge agent's live renderer to record what a virtual receiver heard of each
 * live session: through the renderer's frame hook, each frame's capture time and the
 * true time the sound card played it; at the end, the session's counters and (when asked)
 * the PCM as a 16-bit WAV. The record goes out after the render has returned, so writing
 * the file never delays the receiver's report.
 */
export class LiveRecordingRenderer implements Renderer {
  readonly #takes = new Map<string, Take>();
  readonly #inner: Renderer;
  readonly #trueNow: () => number;

  constructor(
    private readonly o: LiveRecordingOptions,
    /** Makes the live renderer, given the frame hook to install. */
    makeInner: (onFrameHeard: (frame: LiveFrameHeard) => void) => Renderer,
  ) {
    this.#trueNow = o.trueNow ?? Date.now;
    this.#inner = makeInner((frame) => this.#frameHeard(frame));
  }

  async render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome> {
    const session = this.o.sessions.get(item.itemId);
    const frameMs = session?.buffer.frameMs ?? 20;
    const take = new Take((LIVE_SAMPLE_RATE * frameMs) / 1000);
    this.#takes.set(item.itemId, take);
    const renderStartedAt = this.#trueNow();
    const openedBefore = this.o.card.lastOpened;
    let outcome: RenderOutcome;
    try {
      outcome = await this.#inner.render(item, signal, onProgress);
    } catch (error) {
      // The engine reports a renderer that throws as failed: so does the record, before the error goes on.
      const reason = `renderer_error: ${error instanceof Error ? error.message : String(error)}`;
      this.#emit(item.itemId, take, session, renderStartedAt, openedBefore, { result: 'failed', playedMs: 0, reason });
      throw error;
    } finally {
      if (this.#takes.get(item.itemId) === take) this.#takes.delete(item.itemId);
    }
    this.#emit(item.itemId, take, session, renderStartedAt, openedBefore, outcome);
    return outcome;
  }

  #emit(
    sessionId: string,
    take: Take,
    session: LiveSession | undefined,
    renderStartedAt: number,
    openedBefore: VirtualSoundOutput | undefined,
    outcome: RenderOutcome,
  ): void {
    const output = this.o.card.lastOpened !== openedBefore ? this.o.card.lastOpened : undefined;
    const record: LiveRecord = {
      receiverId: this.o.receiverId,
      sessionId,
      renderStartedAt,
      endedAt: this.#trueNow(),
      result: outcome.result,
      ...('reason' in outcome && outcome.reason ? { reason: outcome.reason } : {}),
      frames: {
        captureTs: Float64Array.from(take.captureTs),
        heardAt: Float64Array.from(take.heardAt),
        playoutAt: Float64Array.from(take.playoutAt),
        concealed: Uint8Array.from(take.concealed),
      },
      counters: session?.counters() ?? null,
      underruns: output ? [...output.underruns] : [],
      ...(take.clockErrorMs !== undefined ? { clockErrorMs: take.clockErrorMs } : {}),
      ...(output?.startedAt !== undefined ? { audioStartedAt: output.startedAt } : {}),
    };
    void this.#finish(record, output);
  }

  async #finish(record: LiveRecord, output: VirtualSoundOutput | undefined): Promise<void> {
    const dir = this.o.wavDir;
    if (dir !== undefined) {
      const path = join(dir, record.sessionId, `${record.receiverId}.wav`);
      try {
        await mkdir(join(dir, record.sessionId), { recursive: true });
        await writeFile(
          path,
          encodeWav16({ sampleRate: LIVE_SAMPLE_RATE, samples: output?.heard() ?? new Int16Array(0) }),
        );
        record.wavPath = path;
      } catch (error) {
        record.wavError = `cannot write ${path}: ${(error as Error).message}`;
      }
    }
    this.o.record(record);
  }

  #frameHeard(frame: LiveFrameHeard): void {
    const take = this.#takes.get(frame.sessionId);
    const output = this.o.card.current;
    if (!take || output?.lastWriteHeardAt === undefined) return;
    // Called just after the frame was written; a frame cut to start on time (after silence
    // or the chime) was written short, so its nominal start lies that much earlier.
    const trimmedMs = (take.frameSamples - output.lastWriteSamples) / (LIVE_SAMPLE_RATE / 1000);
    take.captureTs.push(frame.captureTs);
    take.heardAt.push(output.lastWriteHeardAt - Math.max(0, trimmedMs));
    take.playoutAt.push(frame.playoutAt);
    take.concealed.push(frame.concealed ? 1 : 0);
    if (take.clockErrorMs === undefined && this.o.controllerTime)
      take.clockErrorMs = this.o.controllerTime() - this.#trueNow();
  }
}
