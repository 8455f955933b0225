import { ReplayGuard } from '@loa/protocols';
import type { Storage } from '../hardware/seams.js';

const NAME = 'replay-state.json';

/**
 * Replay protection that survives restarts: the guard's state is loaded at start and
 * saved after each accepted command, before the command is acted on. Without it, a
 * recorded command could be replayed to a receiver that has just rebooted.
 */
export class ReplayStore {
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    readonly guard: ReplayGuard,
  ) {}

  static async open(storage: Storage, onCorrupt?: (problem: string) => void): Promise<ReplayStore> {
    const raw = await storage.read(NAME);
    let guard = new ReplayGuard();
    if (raw) {
      try {
        guard = ReplayGuard.fromJSON(JSON.parse(raw.toString('utf8')));
      } catch (error) {
        // Unreadable state: start empty; commands older than the sequence floor of the
        // next accepted command are still refused as stale.
        onCorrupt?.(`replay state unreadable: ${(error as Error).message}`);
      }
    }
    return new ReplayStore(storage, guard);
  }

  save(): Promise<void> {
    const data = JSON.stringify(this.guard.toJSON());
    const next = this.#saving.then(() => this.storage.writeAtomic(NAME, data));
    this.#saving = next.catch(() => {});
    return next;
  }
}
