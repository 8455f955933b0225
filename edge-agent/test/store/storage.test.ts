import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Storage } from '../../src/hardware/seams.js';
import { FileStorage } from '../../src/store/file-storage.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { checkName } from '../../src/store/names.js';
import { tempDir } from './helpers.js';

const BAD_NAMES = [
  '',
  '/etc/passwd',
  '../x',
  'a/../../x',
  'a//b',
  'a/',
  'a/./b',
  '.',
  '..',
  'a\u0000b',
  'a\\b',
  '.tmp-1-x',
  'd/.tmp-x',
];

// The same semantics on a receiver's disk and in the simulator's memory.
describe.each([
  ['FileStorage', async (): Promise<Storage> => FileStorage.open(tempDir())],
  ['MemoryStorage', async (): Promise<Storage> => new MemoryStorage()],
])('%s', (_name, make) => {
  it('reads back what was written, replaces atomically, and says undefined for what is missing', async () => {
    const storage = await make();
    expect(await storage.read('doc.json')).toBeUndefined();
    expect(await storage.size('doc.json')).toBeUndefined();
    await storage.writeAtomic('doc.json', '{"x":1}');
    await storage.writeAtomic('deep/er/doc.json', Buffer.from([0, 1, 2, 255]));
    expect((await storage.read('doc.json'))?.toString()).toBe('{"x":1}');
    expect([...((await storage.read('deep/er/doc.json')) ?? [])]).toEqual([0, 1, 2, 255]);
    await storage.writeAtomic('doc.json', 'replaced, longer than before');
    expect((await storage.read('doc.json'))?.toString()).toBe('replaced, longer than before');
    expect(await storage.size('doc.json')).toBe(28);
  });

  it('does not let a caller change stored bytes through a buffer', async () => {
    const storage = await make();
    const data = Buffer.from('abc');
    await storage.writeAtomic('x', data);
    data[0] = 0x7a;
    const read = await storage.read('x');
    if (read) read[1] = 0x7a;
    expect((await storage.read('x'))?.toString()).toBe('abc');
  });

  it('appends, creating the file, and renames into place (a verified download)', async () => {
    const storage = await make();
    await storage.append('assets/x.part', Buffer.from('abc'));
    await storage.append('assets/x.part', Buffer.from('def'));
    expect(await storage.size('assets/x.part')).toBe(6);
    await storage.rename('assets/x.part', 'assets/x');
    expect((await storage.read('assets/x'))?.toString()).toBe('abcdef');
    expect(await storage.read('assets/x.part')).toBeUndefined();
    await storage.writeAtomic('other/y', 'old');
    await storage.rename('assets/x', 'other/y');
    expect((await storage.read('other/y'))?.toString()).toBe('abcdef');
    await expect(storage.rename('missing', 'z')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes (a missing name is fine) and lists names under a prefix, sorted, without it', async () => {
    const storage = await make();
    for (const name of ['assets/b', 'assets/a', 'assets/sub/c', 'assetsX', 'top']) await storage.writeAtomic(name, 'x');
    expect(await storage.list('assets')).toEqual(['a', 'b', 'sub/c']);
    expect(await storage.list('assets/')).toEqual(['a', 'b', 'sub/c']);
    expect(await storage.list('')).toEqual(['assets/a', 'assets/b', 'assets/sub/c', 'assetsX', 'top']);
    expect(await storage.list('nothing')).toEqual([]);
    expect(await storage.list('top')).toEqual([]);
    await storage.remove('assets/a');
    await storage.remove('assets/a');
    await storage.remove('never/was');
    expect(await storage.list('assets')).toEqual(['b', 'sub/c']);
  });

  it('refuses names that leave the data directory or collide with temp files', async () => {
    const storage = await make();
    for (const bad of BAD_NAMES) {
      await expect(storage.writeAtomic(bad, 'x'), JSON.stringify(bad)).rejects.toThrow(/invalid storage name/);
      await expect(storage.read(bad), JSON.stringify(bad)).rejects.toThrow(/invalid storage name/);
      await expect(storage.append(bad, Buffer.from('x'))).rejects.toThrow(/invalid storage name/);
      await expect(storage.remove(bad)).rejects.toThrow(/invalid storage name/);
      await expect(storage.rename('ok', bad)).rejects.toThrow(/invalid storage name/);
    }
    await expect(storage.list('../')).rejects.toThrow(/invalid storage name/);
    expect(await storage.list('')).toEqual([]);
  });
});

describe('storage names', () => {
  it('accepts ordinary relative paths', () => {
    for (const good of ['a', 'a/b.json', 'outbox/0000000001.log', 'x.corrupt-1700000000000', 'a/.hidden', '..x'])
      expect(checkName(good)).toBe(good);
  });
});

describe('FileStorage on disk', () => {
  it('keeps names inside the directory and leaves no temp files after writes', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(join(dir, 'data'));
    await storage.writeAtomic('a/b.json', '1');
    await storage.append('c.log', Buffer.from('2'));
    await expect(storage.writeAtomic('../escaped', 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['data']);
    expect(readdirSync(join(dir, 'data')).sort()).toEqual(['a', 'c.log']);
    expect(readdirSync(join(dir, 'data', 'a'))).toEqual(['b.json']);
    expect(readFileSync(join(dir, 'data', 'a', 'b.json'), 'utf8')).toBe('1');
  });

  it('removes the temp files of interrupted writes on open, at any depth, and hides them from list', async () => {
    const dir = tempDir();
    const dead = spawnSync('true').pid as number; // a process that has exited
    mkdirSync(join(dir, 'outbox'));
    writeFileSync(join(dir, 'doc.json'), 'kept');
    writeFileSync(join(dir, `.tmp-${dead}-0a1b2c`), 'half a docu');
    writeFileSync(join(dir, 'outbox', `.tmp-${dead}-3d4e5f`), 'half a segm');
    writeFileSync(join(dir, '.tmp-deadbeef'), 'an older temp file without a pid');
    // A temp file of a live process, but old: it cannot be a write in progress.
    writeFileSync(join(dir, `.tmp-${process.pid}-old`), 'stale');
    utimesSync(
      join(dir, `.tmp-${process.pid}-old`),
      new Date(Date.now() - 3_600_000),
      new Date(Date.now() - 3_600_000),
    );
    // A temp file of a live process, written just now: another process's write in progress.
    writeFileSync(join(dir, `.tmp-${process.pid}-fresh`), 'in progress');
    const storage = await FileStorage.open(dir);
    expect(readdirSync(dir).sort()).toEqual([`.tmp-${process.pid}-fresh`, 'doc.json', 'outbox']);
    expect(readdirSync(join(dir, 'outbox'))).toEqual([]);
    expect(await storage.list('')).toEqual(['doc.json']);
  });

  it('cleans up its temp file when a write fails', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.writeAtomic('d/inside', 'x');
    // The target is a non-empty directory: the rename fails after the temp file was written.
    await expect(storage.writeAtomic('d', 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['d']);
  });

  it('lands concurrent writes to one name whole', async () => {
    const storage = await FileStorage.open(tempDir());
    const values = Array.from({ length: 20 }, (_, i) => String(i).repeat(1000 + i));
    await Promise.all(values.map((v) => storage.writeAtomic('doc', v)));
    expect(values).toContain((await storage.read('doc'))?.toString());
  });
});

describe('MemoryStorage budget', () => {
  it('fails like a full card with ENOSPC and changes nothing, and frees space on overwrite, remove and rename', async () => {
    const storage = new MemoryStorage(10);
    await storage.writeAtomic('a', '12345');
    await expect(storage.append('a', Buffer.from('123456'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(storage.writeAtomic('b', '123456')).rejects.toMatchObject({ code: 'ENOSPC' });
    expect((await storage.read('a'))?.toString()).toBe('12345');
    expect(await storage.read('b')).toBeUndefined();
    expect(storage.bytesUsed()).toBe(5);
    await storage.writeAtomic('a', '1234567890'); // an overwrite needs only the difference
    expect(await storage.size('a')).toBe(10);
    await expect(storage.append('a', Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOSPC', errno: -28 });
    await storage.writeAtomic('a', '12');
    await storage.append('a', Buffer.from('345'));
    await storage.writeAtomic('b', '12345');
    expect(storage.bytesUsed()).toBe(10);
    await storage.rename('b', 'a'); // replaces a: its five bytes are free again
    expect(storage.bytesUsed()).toBe(5);
    await storage.remove('a');
    expect(storage.bytesUsed()).toBe(0);
    storage.setBudget(3);
    await expect(storage.writeAtomic('c', '1234')).rejects.toMatchObject({ code: 'ENOSPC' });
    await storage.writeAtomic('c', '123');
  });
});
