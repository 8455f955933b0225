import type { Storage } from '../hardware/seams.js';
import { checkName } from './file-storage.js';

/**
 * Storage in memory: the simulator runs thousands of agents in one process, and unit
 * tests need no disk. An optional byte budget makes it behave like a full flash card.
 */
export class MemoryStorage implements Storage {
  readonly #files = new Map<string, Buffer>();

  constructor(private readonly budgetBytes = Number.POSITIVE_INFINITY) {}

  async read(name: string): Promise<Buffer | undefined> {
    const data = this.#files.get(checkName(name));
    return data ? Buffer.from(data) : undefined;
  }

  async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    const bytes = Buffer.from(data);
    this.#ensureRoom(bytes.length - (this.#files.get(checkName(name))?.length ?? 0));
    this.#files.set(name, bytes);
  }

  async append(name: string, data: Buffer): Promise<void> {
    this.#ensureRoom(data.length);
    const old = this.#files.get(checkName(name));
    this.#files.set(name, old ? Buffer.concat([old, data]) : Buffer.from(data));
  }

  async rename(from: string, to: string): Promise<void> {
    const data = this.#files.get(checkName(from));
    if (!data) throw Object.assign(new Error(`no such file ${from}`), { code: 'ENOENT' });
    this.#files.delete(from);
    this.#files.set(checkName(to), data);
  }

  async remove(name: string): Promise<void> {
    this.#files.delete(checkName(name));
  }

  async list(prefix: string): Promise<string[]> {
    const p = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    return [...this.#files.keys()]
      .filter((n) => n.startsWith(p))
      .map((n) => n.slice(p.length))
      .sort();
  }

  async size(name: string): Promise<number | undefined> {
    return this.#files.get(checkName(name))?.length;
  }

  bytesUsed(): number {
    let total = 0;
    for (const data of this.#files.values()) total += data.length;
    return total;
  }

  #ensureRoom(extra: number): void {
    if (this.bytesUsed() + extra > this.budgetBytes)
      throw Object.assign(new Error('no space left on the storage'), { code: 'ENOSPC' });
  }
}
