import { formatIssues, validate } from '@loa/protocols';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Storage } from '../hardware/seams.js';

/**
 * A typed JSON document in storage (the schedule, faults, settings). Loaded values are
 * checked against the schema; a file that is unreadable or invalid (a card that lost a
 * block) is moved aside and reported, and the default is used, rather than stopping the
 * agent. Saves are atomic and applied in call order.
 */
export class DurableDocument<S extends TSchema> {
  #saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    readonly name: string,
    private readonly schema: S,
    private readonly fallback: () => Static<S>,
    private readonly onCorrupt: (name: string, problem: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<Static<S>> {
    const raw = await this.storage.read(this.name);
    if (raw === undefined) return this.fallback();
    let problem: string;
    try {
      const checked = validate(this.schema, JSON.parse(raw.toString('utf8')));
      if (checked.ok) return checked.value as Static<S>;
      problem = formatIssues(checked.errors);
    } catch (error) {
      problem = (error as Error).message;
    }
    const aside = `${this.name}.corrupt-${this.now()}`;
    await this.storage.rename(this.name, aside).catch(() => this.storage.remove(this.name));
    this.onCorrupt(this.name, `${problem} (kept as ${aside})`);
    return this.fallback();
  }

  save(value: Static<S>): Promise<void> {
    const data = JSON.stringify(value);
    const next = this.#saving.then(() => this.storage.writeAtomic(this.name, data));
    this.#saving = next.catch(() => {});
    return next;
  }
}
