import type { FaultCode, LanguageCode, PlayableItem } from '@loa/protocols';

/**
 * How rendering an item ended. `playedMs` counts sound actually sent to the speakers. An
 * `aborted` render the engine did not ask for (a live stream whose heartbeat stopped) says
 * why in `reason`, which the engine reports with `interrupted`.
 */
export type RenderOutcome =
  | { result: 'finished'; playedMs: number }
  | { result: 'aborted'; playedMs: number; reason?: string }
  | { result: 'failed'; playedMs: number; reason: string; fault?: FaultCode };

/** Progress inside an item, for proof-of-play and the heartbeat. */
export interface RenderProgress {
  repetition: number;
  language: LanguageCode;
}

/**
 * Turns one playable item into sound: amplifier on and warmed up, the prelude (chime or
 * siren), every segment in its order, `repeat` times, at the item's volume, amplifier off
 * after the hold time. The playback engine decides *what* plays *when*; a renderer only
 * plays what it is given until it finishes or `signal` aborts it (pre-emption, stop).
 * Implemented by the audio pipeline for receivers and by a timing-only renderer in tests
 * and the simulator.
 */
export interface Renderer {
  render(
    item: PlayableItem,
    signal: AbortSignal,
    onProgress?: (progress: RenderProgress) => void,
  ): Promise<RenderOutcome>;
}
