import type { LiveCounters, RenderOutcome } from '@loa/edge-agent';

/** The stream frames a receiver sounded in one live session, in the order heard, as parallel arrays. */
export interface LiveFrames {
  /** Controller time the frame was captured (its packet's captureTs + k·frameMs). */
  captureTs: Float64Array;
  /** True time its first sample came out of the (virtual) speakers. */
  heardAt: Float64Array;
  /** Controller time the receiver meant it to be heard, by its clock sync. */
  playoutAt: Float64Array;
  /** 1 for a concealed frame (libopus PLC standing in for a lost or late one). */
  concealed: Uint8Array;
}

/**
 * One receiver's live session, as its virtual sound card heard it: a compact summary sent
 * back to the fleet's owner once the session has ended on that receiver.
 */
export interface LiveRecord {
  receiverId: string;
  sessionId: string;
  /** True time the live renderer took the session (amplifier on, then the chime). */
  renderStartedAt: number;
  /** True time the render ended. */
  endedAt: number;
  result: RenderOutcome['result'];
  reason?: string;
  frames: LiveFrames;
  /** The session's counters at its end (packets, late, missing, concealed, …) as the agent kept them. */
  counters: LiveCounters | null;
  /** Times the sound card ran dry (a gap in the sound): when it began (true time) and how long it lasted. */
  underruns: Array<{ at: number; ms: number }>;
  /** The receiver's clock-sync error when its first frame was heard: its controller time − true time (ms). */
  clockErrorMs?: number;
  /** True time of the recording's first sample (the chime, when there is one). */
  audioStartedAt?: number;
  /** The 16-bit WAV of what was heard, when the fleet records audio (`liveWavDir`). */
  wavPath?: string;
  /** Why the WAV could not be written. */
  wavError?: string;
}
