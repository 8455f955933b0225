import { type Static, Type } from '@sinclair/typebox';
import { validate } from '../validation/validate.js';

/**
 * Remembers every accepted command until it has expired, so a replay inside its validity
 * window is caught exactly, whatever order commands arrive in. Forgetting is safe
 * because an expired command is refused anyway; and each issuer's `floor` (highest
 * forgotten sequence) refuses anything at or below it, so a clock that jumps back after
 * a power loss cannot resurrect a forgotten command. Serialisable for the edge agent's
 * durable store.
 */
export const ReplayState = Type.Object(
  {
    v: Type.Literal(1),
    issuers: Type.Record(
      Type.String(),
      Type.Object({
        floor: Type.Integer({ minimum: -1 }),
        // [seq, expiresAt, id]
        seen: Type.Array(Type.Tuple([Type.Integer(), Type.Integer(), Type.String()])),
      }),
    ),
  },
  { $id: 'ReplayState' },
);
export type ReplayState = Static<typeof ReplayState>;

export type ReplayCheck = 'fresh' | 'replayed' | 'stale_sequence';

interface IssuerState {
  floor: number;
  seen: Map<number, { expiresAt: number; id: string }>;
}

export interface ReplayGuardOptions {
  /** Most commands remembered per issuer; beyond it the oldest sequences are forgotten. */
  maxEntriesPerIssuer?: number;
}

export class ReplayGuard {
  readonly #issuers = new Map<string, IssuerState>();
  readonly #ids = new Set<string>();
  readonly #maxEntries: number;

  constructor(options: ReplayGuardOptions = {}, state?: ReplayState) {
    this.#maxEntries = options.maxEntriesPerIssuer ?? 20_000;
    if (state) this.#load(state);
  }

  check(issuer: string, seq: number, id: string): ReplayCheck {
    if (this.#ids.has(id)) return 'replayed';
    const state = this.#issuers.get(issuer);
    if (!state) return 'fresh';
    if (seq <= state.floor) return 'stale_sequence';
    return state.seen.has(seq) ? 'replayed' : 'fresh';
  }

  /** Records an accepted command. Call only after every other check has passed. */
  commit(issuer: string, seq: number, id: string, expiresAt: number): void {
    let state = this.#issuers.get(issuer);
    if (!state) {
      state = { floor: -1, seen: new Map() };
      this.#issuers.set(issuer, state);
    }
    state.seen.set(seq, { expiresAt, id });
    this.#ids.add(id);
    if (state.seen.size > this.#maxEntries) this.#forgetOldest(state, state.seen.size - this.#maxEntries);
  }

  /** Forgets commands expired before `now - skewMs`; returns how many were forgotten. */
  prune(now: number, skewMs = 0): number {
    let forgotten = 0;
    for (const state of this.#issuers.values()) {
      for (const [seq, entry] of state.seen) {
        if (entry.expiresAt + skewMs < now) {
          this.#forget(state, seq, entry.id);
          forgotten++;
        }
      }
    }
    return forgotten;
  }

  get size(): number {
    return this.#ids.size;
  }

  toJSON(): ReplayState {
    const issuers: ReplayState['issuers'] = {};
    for (const [issuer, state] of this.#issuers) {
      issuers[issuer] = {
        floor: state.floor,
        seen: [...state.seen].map(([seq, e]) => [seq, e.expiresAt, e.id] as [number, number, string]),
      };
    }
    return { v: 1, issuers };
  }

  static fromJSON(state: unknown, options?: ReplayGuardOptions): ReplayGuard {
    const checked = validate(ReplayState, state);
    if (!checked.ok) throw new Error(`invalid replay state: ${checked.errors.map((e) => e.message).join('; ')}`);
    return new ReplayGuard(options, checked.value);
  }

  #forget(state: IssuerState, seq: number, id: string): void {
    state.seen.delete(seq);
    this.#ids.delete(id);
    if (seq > state.floor) state.floor = seq;
  }

  #forgetOldest(state: IssuerState, count: number): void {
    const oldest = [...state.seen.keys()].sort((a, b) => a - b).slice(0, count);
    for (const seq of oldest) this.#forget(state, seq, state.seen.get(seq)?.id ?? '');
  }

  #load(state: ReplayState): void {
    for (const [issuer, s] of Object.entries(state.issuers)) {
      const seen = new Map<number, { expiresAt: number; id: string }>();
      for (const [seq, expiresAt, id] of s.seen) {
        seen.set(seq, { expiresAt, id });
        this.#ids.add(id);
      }
      this.#issuers.set(issuer, { floor: s.floor, seen });
    }
  }
}
