import type { FaultCode, FaultEvent } from '@loa/protocols';

export type FaultReport = Pick<FaultEvent, 'type' | 'code' | 'state'> & Partial<Pick<FaultEvent, 'detail'>>;

/**
 * Latched faults: a fault stays raised until the condition is seen to be gone and it is
 * cleared, however often it recurs meanwhile; each raise and clear is reported once.
 * The set is saved so a reboot neither forgets a fault nor reports it again.
 */
export class FaultLatch {
  readonly #raised = new Map<FaultCode, string | undefined>();

  constructor(
    private readonly o: {
      report: (fault: FaultReport) => Promise<void>;
      save?: (codes: FaultCode[]) => Promise<void>;
      initial?: FaultCode[];
    },
  ) {
    for (const code of o.initial ?? []) this.#raised.set(code, undefined);
  }

  async raise(code: FaultCode, detail?: string): Promise<void> {
    if (this.#raised.has(code)) return;
    this.#raised.set(code, detail);
    await this.o.save?.(this.list());
    await this.o.report({ type: 'fault', code, state: 'raised', ...(detail ? { detail: detail.slice(0, 500) } : {}) });
  }

  async clear(code: FaultCode, detail?: string): Promise<void> {
    if (!this.#raised.has(code)) return;
    this.#raised.delete(code);
    await this.o.save?.(this.list());
    await this.o.report({ type: 'fault', code, state: 'cleared', ...(detail ? { detail: detail.slice(0, 500) } : {}) });
  }

  /** Raises or clears by a condition observed now. */
  async set(code: FaultCode, present: boolean, detail?: string): Promise<void> {
    await (present ? this.raise(code, detail) : this.clear(code, detail));
  }

  has(code: FaultCode): boolean {
    return this.#raised.has(code);
  }

  list(): FaultCode[] {
    return [...this.#raised.keys()].sort();
  }
}
