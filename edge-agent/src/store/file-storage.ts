import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Storage } from '../hardware/seams.js';
import { checkName, checkPrefix, TEMP_PREFIX } from './names.js';

/** A temp file younger than this, whose writer is alive, may be a write in progress in another process. */
const TEMP_IN_USE_MS = 60_000;

/**
 * The data directory on a receiver's flash card. Power cuts are common, so a write is
 * made durable before it is reported done, following the usual POSIX discipline: file
 * data is fsynced before the rename that publishes it, and the directory holding a new,
 * renamed or removed name is fsynced after it (a name lives in its directory's data,
 * which the file's own fsync does not cover).
 *
 * Concurrent `writeAtomic`s to one name each land whole, but which lands last is up to the
 * file system; callers that need call order serialise (DurableDocument does).
 */
export class FileStorage implements Storage {
  private constructor(readonly dir: string) {}

  /**
   * Opens (creating) the data directory and removes the temp files of writes a power cut
   * or crash interrupted. A temp file of a live process written in the last minute is
   * left alone: `edge-agent status` opens the directory while the agent is running.
   */
  static async open(dir: string): Promise<FileStorage> {
    await ensureDir(dir);
    const now = Date.now();
    for (const { path, name } of await walk(dir)) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
      if (pid && isAlive(pid)) {
        const age = now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0);
        // A future mtime means the clock went back after a power cut: the file predates it.
        if (age >= 0 && age < TEMP_IN_USE_MS) continue;
      }
      await unlink(path).catch(ignore('ENOENT'));
    }
    return new FileStorage(dir);
  }

  async read(name: string): Promise<Buffer | undefined> {
    return readFile(this.#path(name)).catch(ignore('ENOENT'));
  }

  async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    const target = this.#path(name);
    const dir = dirname(target);
    await ensureDir(dir);
    // Same directory as the target: rename is only atomic within one file system.
    const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await withFile(temp, 'wx', async (handle) => {
        await handle.writeFile(data);
        // Data before rename: otherwise the rename can reach the disk first, and a power
        // cut leaves the name pointing at an empty or partial file.
        await handle.datasync();
      });
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    // The rename itself: until the directory is on disk, a power cut can bring back the old content.
    await syncDir(dir);
  }

  async append(name: string, data: Buffer): Promise<void> {
    const target = this.#path(name);
    const dir = dirname(target);
    await ensureDir(dir);
    let created = true;
    const handle = await open(target, 'ax').catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      created = false;
      return open(target, 'a');
    });
    try {
      await handle.appendFile(data);
      // The appended bytes and the new length, before we say they are durable.
      await handle.datasync();
    } finally {
      await handle.close();
    }
    // A new file's name, else a power cut can lose the whole file.
    if (created) await syncDir(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    const source = this.#path(from);
    const target = this.#path(to);
    await ensureDir(dirname(target));
    await rename(source, target);
    // The new name first, then the old name's removal (when another directory), so a
    // power cut leaves the file under at least one of them.
    await syncDir(dirname(target));
    if (dirname(target) !== dirname(source)) await syncDir(dirname(source));
  }

  async remove(name: string): Promise<void> {
    const path = this.#path(name);
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    // The removal, so that removals reach the disk in the order they were made (the
    // outbox removes a segment before its acknowledgements).
    await syncDir(dirname(path));
  }

  async list(prefix: string): Promise<string[]> {
    const base = checkPrefix(prefix);
    const root = base === '' ? this.dir : this.#path(base);
    return (await walk(root))
      .filter((f) => !f.name.startsWith(TEMP_PREFIX))
      .map((f) => f.relative)
      .sort();
  }

  async size(name: string): Promise<number | undefined> {
    const info = await stat(this.#path(name)).catch(ignore('ENOENT'));
    return info?.isFile() ? info.size : undefined;
  }

  #path(name: string): string {
    return join(this.dir, ...checkName(name).split('/'));
  }
}

/** Creates a directory (and parents), making each new directory's name durable in its parent. */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.push(d);
    if (d === first || dirname(d) === d) break;
  }
  for (const d of created.reverse()) await syncDir(dirname(d));
}

async function syncDir(dir: string): Promise<void> {
  await withFile(dir, 'r', (handle) => handle.sync());
}

async function withFile<T>(path: string, flags: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await open(path, flags);
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

interface Found {
  path: string;
  name: string;
  /** Relative to the walk's root, with `/`. */
  relative: string;
}

async function walk(root: string, under = ''): Promise<Found[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(under ? join(root, under) : root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const out: Found[] = [];
  for (const entry of entries) {
    const relative = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(root, relative)));
    else if (entry.isFile()) out.push({ path: join(root, relative), name: entry.name, relative });
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A catch handler that turns the given error code into `undefined`. */
function ignore(code: string) {
  return (error: NodeJS.ErrnoException): undefined => {
    if (error.code === code) return undefined;
    throw error;
  };
}
