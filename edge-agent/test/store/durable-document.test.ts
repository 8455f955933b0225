import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { Storage } from '../../src/hardware/seams.js';
import { DurableDocument, KEEP_CORRUPT_COPIES } from '../../src/store/durable-document.js';
import { FileStorage } from '../../src/store/file-storage.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { tempDir } from './helpers.js';

const Settings = Type.Object({
  volume: Type.Integer({ minimum: 0, maximum: 100 }),
  label: Type.Optional(Type.String()),
});

function settings(storage: Storage, name = 'settings.json') {
  const problems: { name: string; problem: string }[] = [];
  let clock = 1_000;
  const doc = new DurableDocument(
    storage,
    name,
    Settings,
    () => ({ volume: 80 }),
    (n, problem) => problems.push({ name: n, problem }),
    () => clock++,
  );
  return { doc, problems };
}

/** Storage whose writes wait until released, to see what saves do meanwhile. */
class SlowStorage extends MemoryStorage {
  readonly writes: string[] = [];
  #gate: Promise<void> = Promise.resolve();
  #open = () => {};
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }
  release(): void {
    this.#open();
  }
  override async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    await this.#gate;
    this.writes.push(String(data));
    return super.writeAtomic(name, data);
  }
}

describe('DurableDocument', () => {
  it('loads the default when nothing is stored, and what was saved after', async () => {
    const { doc, problems } = settings(new MemoryStorage());
    expect(await doc.load()).toEqual({ volume: 80 });
    await doc.save({ volume: 35, label: 'night' });
    expect(await doc.load()).toEqual({ volume: 35, label: 'night' });
    expect(problems).toEqual([]);
  });

  it('applies concurrent saves in call order (last wins), coalescing those that wait', async () => {
    const storage = new SlowStorage();
    const { doc } = settings(storage);
    storage.hold();
    const first = doc.save({ volume: 1 });
    await new Promise((resolve) => setImmediate(resolve)); // the first write is now under way, held
    const saves = [first, ...[2, 3, 4, 5].map((volume) => doc.save({ volume }))];
    const loaded = doc.load(); // waits for the saves before it
    storage.release();
    await Promise.all(saves);
    expect(await loaded).toEqual({ volume: 5 });
    // The first write was already under way; the four saves behind it became one write.
    expect(storage.writes).toEqual(['{"volume":1}', '{"volume":5}']);
    expect(JSON.parse(String(await storage.read('settings.json')))).toEqual({ volume: 5 });
  });

  it('takes a snapshot at save time: later changes to the object are not written', async () => {
    const storage = new MemoryStorage();
    const { doc } = settings(storage);
    const value = { volume: 10 };
    const saved = doc.save(value);
    value.volume = 99;
    await saved;
    expect(await doc.load()).toEqual({ volume: 10 });
  });

  it('refuses to save a value the next load would reject, and keeps the stored one', async () => {
    const storage = new MemoryStorage();
    const { doc } = settings(storage);
    await doc.save({ volume: 20 });
    await expect(doc.save({ volume: 101 })).rejects.toThrow(/invalid document/);
    await expect(doc.save({ volume: Number.NaN })).rejects.toThrow(/invalid document/);
    expect(await doc.load()).toEqual({ volume: 20 });
  });

  it('keeps going after a failed save: the failure reaches its caller, later saves still land', async () => {
    const storage = new MemoryStorage(30);
    const { doc } = settings(storage);
    await expect(doc.save({ volume: 1, label: 'x'.repeat(40) })).rejects.toMatchObject({ code: 'ENOSPC' });
    await doc.save({ volume: 2 });
    expect(await doc.load()).toEqual({ volume: 2 });
  });

  it('sets aside a document torn mid-JSON, reports it, and uses the default (on disk)', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    const { doc, problems } = settings(storage);
    await doc.save({ volume: 42, label: 'a label long enough to cut in half' });
    const whole = readFileSync(join(dir, 'settings.json'));
    writeFileSync(join(dir, 'settings.json'), whole.subarray(0, whole.length / 2));
    expect(await doc.load()).toEqual({ volume: 80 });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.name).toBe('settings.json');
    expect(problems[0]?.problem).toMatch(/not valid JSON.*kept as settings\.json\.corrupt-1000/);
    expect(readdirSync(dir).sort()).toEqual(['settings.json.corrupt-1000']);
    expect(readFileSync(join(dir, 'settings.json.corrupt-1000'))).toEqual(whole.subarray(0, whole.length / 2));
    // The default is saved over it as usual, and loads cleanly.
    await doc.save({ volume: 80 });
    expect(await doc.load()).toEqual({ volume: 80 });
    expect(problems).toHaveLength(1);
  });

  it('sets aside a document that parses but fails the schema, or is not UTF-8, or is empty', async () => {
    const storage = new MemoryStorage();
    const { doc, problems } = settings(storage, 'conf/settings.json');
    for (const bad of ['{"volume": 300}', '[1,2]', Buffer.from([0xff, 0xfe, 0x7b]), '']) {
      await storage.writeAtomic('conf/settings.json', bad);
      expect(await doc.load()).toEqual({ volume: 80 });
    }
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/volume/),
      expect.stringMatching(/object/),
      expect.stringMatching(/UTF-8/),
      expect.stringMatching(/empty/),
    ]);
    // Only the newest copies are kept, so a failing card does not fill up with them.
    expect(await storage.list('conf')).toEqual(
      [1001, 1002, 1003].slice(-KEEP_CORRUPT_COPIES).map((t) => `settings.json.corrupt-${t}`),
    );
  });

  it('never rejects a load, even when the storage cannot read or move the file', async () => {
    class Broken extends MemoryStorage {
      override async read(): Promise<Buffer | undefined> {
        throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      }
    }
    const broken = settings(new Broken());
    expect(await broken.doc.load()).toEqual({ volume: 80 });
    expect(broken.problems[0]?.problem).toMatch(/could not be read: EIO/);

    class Stuck extends MemoryStorage {
      override async rename(): Promise<void> {
        throw new Error('EROFS: read-only file system');
      }
      override async remove(): Promise<void> {
        throw new Error('EROFS: read-only file system');
      }
    }
    const stuck = new Stuck();
    await stuck.writeAtomic('settings.json', 'garbage');
    const s = settings(stuck);
    expect(await s.doc.load()).toEqual({ volume: 80 });
    expect(s.problems[0]?.problem).toMatch(/could not be moved aside: EROFS/);
  });

  it('does not let a throwing reporter stop the load', async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic('x.json', '{');
    const doc = new DurableDocument(
      storage,
      'x.json',
      Settings,
      () => ({ volume: 1 }),
      () => {
        throw new Error('reporter down');
      },
    );
    expect(await doc.load()).toEqual({ volume: 1 });
  });
});
