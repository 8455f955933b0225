import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as openReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** A byte range of a stored file; both ends inclusive, as in HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where audio files live, named by the SHA-256 of their bytes (lowercase hex). The same
 * bytes always have the same name, so storing is idempotent, a stored file never changes
 * and receivers may cache it for ever. This is all the controller needs of a store: the
 * metadata (duration, format, ...) is in the `Asset` table. An S3-compatible backend can
 * implement the same five operations (PutObject, HeadObject, GetObject with Range,
 * DeleteObject).
 *
 * Every method refuses (throws) a name that is not 64 lowercase hex digits, so a name can
 * never reach outside the store.
 */
export interface AssetStore {
  /**
   * Stores the bytes and answers their SHA-256. Either the whole file is stored or nothing
   * is: a reader never sees part of a file. Storing bytes already there keeps the file.
   */
  put(bytes: Uint8Array): Promise<string>;
  has(sha256: string): Promise<boolean>;
  /** The stored file's length in bytes, or undefined when it is not stored. */
  size(sha256: string): Promise<number | undefined>;
  /**
   * The file's bytes (or one range of them, which must lie within the file), read as they
   * are sent rather than loaded into memory; undefined when the file is not stored.
   */
  createReadStream(sha256: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Removes the file; answers whether it was there. */
  delete(sha256: string): Promise<boolean>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(value: string): boolean {
  return SHA256.test(value);
}

function checkSha(sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`not a SHA-256 (64 lowercase hex digits): ${JSON.stringify(sha256)}`);
  return sha256;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Assets on the local disk: `<dir>/<first two hex digits>/<sha256>` (256 subdirectories
 * keep directories small). A file is written under a temporary name in its final
 * directory, fsynced, renamed into place and the directory fsynced, so after a crash a
 * file is either whole or absent; leftover temporary files (`.<sha256>.<random>.tmp`) are
 * removed by `removeTemporaryFiles`.
 */
export class DiskAssetStore implements AssetStore {
  constructor(readonly dir: string) {}

  #path(sha256: string): string {
    return join(this.dir, checkSha(sha256).slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = sha256Of(bytes);
    const path = this.#path(sha256);
    // The name is the content's hash, so a file of the right length is normally the same
    // file; it is hashed again to be sure (a file damaged on disk is replaced).
    if ((await this.size(sha256)) === bytes.length && (await hashFile(path)) === sha256) return sha256;
    const shard = join(this.dir, sha256.slice(0, 2));
    await mkdir(shard, { recursive: true });
    const temporary = join(shard, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temporary, 'wx', 0o644);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await syncDirectory(shard);
    return sha256;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      const info = await stat(this.#path(sha256));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async createReadStream(sha256: string, range?: ByteRange): Promise<Readable | undefined> {
    if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0))
      throw new Error(`invalid range ${JSON.stringify(range)}`);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      // Opened here, so a missing file is answered before any response header is sent.
      handle = await open(this.#path(sha256), 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      return handle.createReadStream({ ...(range ? { start: range.start, end: range.end } : {}), autoClose: true });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    try {
      await unlink(this.#path(sha256));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** Removes temporary files a crash left behind that are older than `olderThanMs`; answers how many. */
  async removeTemporaryFiles(olderThanMs = 3600_000): Promise<number> {
    let removed = 0;
    const shards = await readdir(this.dir).catch((error: unknown) => {
      if (isMissing(error)) return [] as string[];
      throw error;
    });
    for (const shard of shards.filter((name) => /^[0-9a-f]{2}$/.test(name))) {
      for (const name of await readdir(join(this.dir, shard))) {
        if (!/^\.[0-9a-f]{64}\.[0-9a-f]+\.tmp$/.test(name)) continue;
        const path = join(this.dir, shard, name);
        const info = await stat(path).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > olderThanMs) {
          await unlink(path).catch(() => {});
          removed++;
        }
      }
    }
    return removed;
  }
}

async function hashFile(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of openReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  return hash.digest('hex');
}

/** Makes a rename in the directory durable (not possible on every platform; best effort there). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}
