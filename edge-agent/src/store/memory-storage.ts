import type { Storage } from '../hardware/seams.js';
import { checkName, checkPrefix } from './names.js';

/** A file as appended chunks, joined when read, so appending to a long log stays cheap. */
interface MemoryFile {
  chunks: Buffer[];
  length: number;
}

/**
 * Storage in memory: the simulator runs thousands of agents in one process, and unit
 * tests need no disk. Names follow the file storage's rules. Everything written is
 * "durable" (it survives a simulated power cycle as long as the object is kept).
 *
 * An optional byte budget makes it behave like a full flash card: a write that would go
 * over it fails with an error whose code is 'ENOSPC', and changes nothing.
 */
export class MemoryStorage implements Storage {
  readonly #files = new Map<string, MemoryFile>();
  #used = 0;
  #budget: number;

  constructor(budgetBytes = Number.POSITIVE_INFINITY) {
    this.#budget = budgetBytes;
  }

  async read(name: string): Promise<Buffer | undefined> {
    const file = this.#files.get(checkName(name));
    if (!file) return undefined;
    if (file.chunks.length > 1) file.chunks = [Buffer.concat(file.chunks, file.length)];
    // A copy: the caller may change it, the stored bytes may not change.
    return Buffer.from(file.chunks[0] ?? Buffer.alloc(0));
  }

  async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    const bytes = Buffer.from(data);
    const old = this.#files.get(checkName(name));
    this.#ensureRoom(name, bytes.length - (old?.length ?? 0));
    this.#used += bytes.length - (old?.length ?? 0);
    this.#files.set(name, { chunks: [bytes], length: bytes.length });
  }

  async append(name: string, data: Buffer): Promise<void> {
    this.#ensureRoom(checkName(name), data.length);
    const bytes = Buffer.from(data);
    const file = this.#files.get(name);
    if (file) {
      file.chunks.push(bytes);
      file.length += bytes.length;
    } else this.#files.set(name, { chunks: [bytes], length: bytes.length });
    this.#used += bytes.length;
  }

  async rename(from: string, to: string): Promise<void> {
    const file = this.#files.get(checkName(from));
    checkName(to);
    if (!file) throw Object.assign(new Error(`ENOENT: no such file, rename '${from}' -> '${to}'`), { code: 'ENOENT' });
    if (from === to) return;
    this.#used -= this.#files.get(to)?.length ?? 0;
    this.#files.delete(from);
    this.#files.set(to, file);
  }

  async remove(name: string): Promise<void> {
    const file = this.#files.get(checkName(name));
    if (!file) return;
    this.#used -= file.length;
    this.#files.delete(name);
  }

  async list(prefix: string): Promise<string[]> {
    const base = checkPrefix(prefix);
    const p = base === '' ? '' : `${base}/`;
    return [...this.#files.keys()]
      .filter((n) => n.startsWith(p))
      .map((n) => n.slice(p.length))
      .sort();
  }

  async size(name: string): Promise<number | undefined> {
    return this.#files.get(checkName(name))?.length;
  }

  bytesUsed(): number {
    return this.#used;
  }

  /** Changes the budget (fault injection: the card fills up, or space is freed elsewhere). */
  setBudget(budgetBytes: number): void {
    this.#budget = budgetBytes;
  }

  #ensureRoom(name: string, extra: number): void {
    if (extra > 0 && this.#used + extra > this.#budget)
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${name}'`), {
        code: 'ENOSPC',
        errno: -28,
        syscall: 'write',
      });
  }
}
