import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Storage } from '../hardware/seams.js';

const TEMP = '.tmp-';

/** Refuses names that could leave the data directory. */
export function checkName(name: string): string {
  const parts = name.split('/');
  if (!name || name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new Error(`invalid storage name "${name}"`);
  return name;
}

/**
 * The data directory on a receiver's flash. Power cuts are common, so every write is
 * made durable before it is reported done: data is fsynced before the rename that
 * publishes it (else the rename can reach the disk before the data, leaving an empty
 * file), and the directory is fsynced after (else the rename itself can be lost).
 */
export class FileStorage implements Storage {
  private constructor(readonly dir: string) {}

  /** Opens the directory, creating it, and removes temp files of writes a power cut interrupted. */
  static async open(dir: string): Promise<FileStorage> {
    await mkdir(dir, { recursive: true });
    const storage = new FileStorage(dir);
    for (const file of await walk(dir)) if (file.split(sep).pop()?.startsWith(TEMP)) await rm(file, { force: true });
    return storage;
  }

  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#path(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    const target = this.#path(name);
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `${TEMP}${randomBytes(6).toString('hex')}`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await syncDir(dirname(target));
  }

  async append(name: string, data: Buffer): Promise<void> {
    const target = this.#path(name);
    await mkdir(dirname(target), { recursive: true });
    const handle = await open(target, 'a');
    try {
      await handle.write(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const target = this.#path(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.#path(from), target);
    await syncDir(dirname(target));
    if (dirname(target) !== dirname(this.#path(from))) await syncDir(dirname(this.#path(from)));
  }

  async remove(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.#path(prefix.replace(/\/$/, '') || '.');
    const files = await walk(base);
    return files
      .map((f) => relative(base, f).split(sep).join('/'))
      .filter((f) => !f.split('/').pop()?.startsWith(TEMP))
      .sort();
  }

  async size(name: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(name))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  #path(name: string): string {
    if (name === '.') return this.dir;
    return join(this.dir, ...checkName(name).split('/'));
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function walk(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}
