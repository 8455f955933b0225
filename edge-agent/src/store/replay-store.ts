import { ReplayGuard, type ReplayGuardOptions, ReplayState } from '@loa/protocols';
import type { Storage } from '../hardware/seams.js';
import { DurableDocument } from './durable-document.js';

export const REPLAY_STATE_NAME = 'replay-state.json';

/**
 * Replay protection that survives restarts (Dallas 2017: recorded siren commands were
 * replayed). The guard's state is loaded at start and saved after each accepted command,
 * before the command is acted on: the caller awaits `save()`. Without it, a recorded
 * command could be replayed to a receiver that has just rebooted.
 *
 * Unreadable state (a damaged card) is set aside and reported, and the guard starts
 * empty; the command verifier's validity window still refuses old recordings.
 */
export class ReplayStore {
  private constructor(
    private readonly doc: DurableDocument<typeof ReplayState>,
    readonly guard: ReplayGuard,
  ) {}

  static async open(
    storage: Storage,
    onCorrupt?: (problem: string) => void,
    options?: ReplayGuardOptions,
  ): Promise<ReplayStore> {
    const doc = new DurableDocument(
      storage,
      REPLAY_STATE_NAME,
      ReplayState,
      () => ({ v: 1 as const, issuers: {} }),
      (name, problem) => onCorrupt?.(`replay state unreadable (${name}): ${problem}`),
    );
    return new ReplayStore(doc, new ReplayGuard(options, await doc.load()));
  }

  /**
   * Saves the guard as it is now; resolves when that state (or a newer one) is durable.
   * Saves are written in call order, and a burst of commands shares writes.
   */
  save(): Promise<void> {
    return this.doc.save(this.guard.toJSON());
  }
}
