import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceiverEvent } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import type { Storage } from '../../src/hardware/seams.js';
import { FileStorage } from '../../src/store/file-storage.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { Outbox } from '../../src/store/outbox.js';
import { event, tempDir } from './helpers.js';

const ats = async (outbox: Outbox, limit = 100_000) => (await outbox.pending(limit)).map((e) => e.at);

/** Counts what is written, to check that adding a report does not rewrite the others. */
class CountingStorage extends MemoryStorage {
  appends = 0;
  atomicWrites = 0;
  bytesWritten = 0;
  override async append(name: string, data: Buffer): Promise<void> {
    await super.append(name, data);
    this.appends++;
    this.bytesWritten += data.length;
  }
  override async writeAtomic(name: string, data: Buffer | string): Promise<void> {
    await super.writeAtomic(name, data);
    this.atomicWrites++;
    this.bytesWritten += Buffer.byteLength(data);
  }
}

describe.each([
  ['memory', async () => new MemoryStorage() as Storage],
  ['disk', async () => FileStorage.open(tempDir()) as Promise<Storage>],
])('Outbox on %s storage', (_kind, make) => {
  it('keeps reports oldest first until confirmed, across restarts', async () => {
    const storage = await make();
    const outbox = await Outbox.open(storage);
    const events = [event('play', 1), event('cache', 2), event('fault', 3), event('ack', 4)];
    for (const e of events) await outbox.add(e);
    await outbox.add(events[0] as ReceiverEvent); // a repeat is kept once
    expect(outbox.size).toBe(4);
    expect(await outbox.pending()).toEqual(events);
    expect(await ats(outbox, 2)).toEqual([1, 2]);
    expect(await outbox.confirm([events[1]?.eventId as string, randomUUID(), events[1]?.eventId as string])).toBe(1);
    expect(outbox.has(events[1]?.eventId as string)).toBe(false);

    const reopened = await Outbox.open(storage);
    expect(await ats(reopened)).toEqual([1, 3, 4]);
    await reopened.add(event('cache', 5));
    expect(await reopened.confirm([events[0]?.eventId as string])).toBe(1);
    expect(await ats(reopened)).toEqual([3, 4, 5]);
    expect(await ats(await Outbox.open(storage))).toEqual([3, 4, 5]);
  });

  it('writes concurrent adds together, in call order, and keeps a report added twice at once only once', async () => {
    const storage = await make();
    const outbox = await Outbox.open(storage);
    const events = Array.from({ length: 50 }, (_, i) => event('play', i));
    await Promise.all([...events.map((e) => outbox.add(e)), outbox.add(events[7] as ReceiverEvent)]);
    expect(await ats(outbox)).toEqual(events.map((e) => e.at));
    expect(await ats(await Outbox.open(storage))).toEqual(events.map((e) => e.at));
  });
});

describe('Outbox efficiency', () => {
  it('appends one record per add (no rewriting), groups concurrent adds, and frees segments once confirmed', async () => {
    const storage = new CountingStorage();
    const outbox = await Outbox.open(storage, { segmentBytes: 16 * 1024 });
    const events = Array.from({ length: 3000 }, (_, i) => event(i % 2 ? 'play' : 'cache', i));
    for (const e of events) await outbox.add(e);
    const held = outbox.bytes;
    expect(storage.appends).toBe(3000);
    expect(storage.atomicWrites).toBe(0);
    expect(storage.bytesWritten).toBe(held); // exactly the records, once
    const files = await storage.list('outbox');
    expect(files.length).toBeGreaterThan(10); // several segments...
    expect(files.length).toBeLessThan(held / (16 * 1024) + 2); // ...each about segmentBytes

    storage.appends = 0;
    await Promise.all(Array.from({ length: 200 }, (_, i) => outbox.add(event('play', 5000 + i))));
    expect(storage.appends).toBe(1); // one append, one fsync on disk

    // The controller receipts in batches of up to 500; everything confirmed leaves at most the current segment.
    const ids = (await outbox.pending(10_000)).map((e) => e.eventId);
    for (let i = 0; i < ids.length; i += 500) await outbox.confirm(ids.slice(i, i + 500));
    expect(outbox.size).toBe(0);
    expect(outbox.bytes).toBe(0);
    expect((await storage.list('outbox')).length).toBeLessThanOrEqual(2);
    expect(await ats(await Outbox.open(storage))).toEqual([]);
  });

  it('compacts segments that are mostly confirmed, keeping the rest in order', async () => {
    const storage = new CountingStorage();
    const outbox = await Outbox.open(storage, { segmentBytes: 2048 });
    const events = Array.from({ length: 400 }, (_, i) => event('play', i));
    for (const e of events) await outbox.add(e);
    const logsBefore = (await storage.list('outbox')).filter((n) => n.endsWith('.log')).length;
    // Out-of-order receipts leave a few reports in every segment.
    await outbox.confirm(events.filter((_, i) => i % 10 !== 0).map((e) => e.eventId));
    const kept = events.filter((_, i) => i % 10 === 0).map((e) => e.at);
    expect(outbox.stats.compactions).toBeGreaterThan(0);
    const logsAfter = (await storage.list('outbox')).filter((n) => n.endsWith('.log')).length;
    expect(logsBefore).toBeGreaterThan(20);
    expect(logsAfter).toBeLessThanOrEqual(2);
    expect(await ats(outbox)).toEqual(kept);
    const reopened = await Outbox.open(storage);
    expect(await ats(reopened)).toEqual(kept);
    expect(reopened.bytes).toBe(outbox.bytes);
  });

  it('keeps the number of segments bounded when the receiver restarts often', async () => {
    const storage = new MemoryStorage();
    const added: number[] = [];
    for (let boot = 0; boot < 40; boot++) {
      const outbox = await Outbox.open(storage, { maxSegments: 8 });
      await outbox.add(event('play', boot)); // each boot starts a new segment
      await outbox.idle(); // the process ends (one writer at a time)
      added.push(boot);
    }
    expect((await storage.list('outbox')).filter((n) => n.endsWith('.log')).length).toBeLessThanOrEqual(10);
    expect(await ats(await Outbox.open(storage))).toEqual(added);
  });
});

describe('Outbox bounds', () => {
  it('when full, drops the oldest cache reports, then acks, then faults, and proof of play last; counts them', async () => {
    const storage = new MemoryStorage();
    const outbox = await Outbox.open(storage, 6);
    // at: 1..6 = play, cache, ack, fault, cache, play
    for (const [i, type] of (['play', 'cache', 'ack', 'fault', 'cache', 'play'] as const).entries())
      await outbox.add(event(type, i + 1));
    expect(await ats(outbox)).toEqual([1, 2, 3, 4, 5, 6]);
    await outbox.add(event('play', 7));
    expect(await ats(outbox)).toEqual([1, 3, 4, 5, 6, 7]); // oldest cache
    await outbox.add(event('play', 8));
    expect(await ats(outbox)).toEqual([1, 3, 4, 6, 7, 8]); // the other cache
    await outbox.add(event('fault', 9));
    expect(await ats(outbox)).toEqual([1, 4, 6, 7, 8, 9]); // then the ack
    await outbox.add(event('cache', 10));
    expect(await ats(outbox)).toEqual([1, 4, 6, 7, 8, 9]); // a new cache report is the first to go
    await outbox.add(event('play', 11));
    expect(await ats(outbox)).toEqual([1, 6, 7, 8, 9, 11]); // oldest fault before any play
    await outbox.add(event('play', 12));
    await outbox.add(event('play', 13));
    expect(await ats(outbox)).toEqual([1, 6, 7, 8, 11, 12, 13].slice(-6)); // faults gone, then oldest play
    expect(outbox.stats.dropped).toBe(7);
    expect(outbox.stats.droppedByType).toEqual({ cache: 3, ack: 1, fault: 2, play: 1 });
    // Dropped reports stay dropped after a restart.
    await outbox.idle();
    expect(await ats(await Outbox.open(storage, 6))).toEqual(await ats(outbox));
  });

  it('is bounded in bytes as well', async () => {
    const outbox = await Outbox.open(new MemoryStorage(), { maxBytes: 10_000 });
    for (let i = 0; i < 200; i++) await outbox.add(event('play', i));
    expect(outbox.bytes).toBeLessThanOrEqual(10_000);
    expect(outbox.bytes).toBeGreaterThan(9_000);
    const held = await ats(outbox);
    expect(held.at(-1)).toBe(199);
    expect(outbox.stats.dropped).toBe(200 - held.length);
    expect(held).toEqual(Array.from({ length: held.length }, (_, i) => 200 - held.length + i));
  });
});

describe('Outbox recovery from torn and damaged files', () => {
  async function withFive(onProblem?: (p: string) => void) {
    const dir = tempDir();
    const outbox = await Outbox.open(await FileStorage.open(dir), { onProblem });
    for (let i = 1; i <= 5; i++) await outbox.add(event('play', i));
    const [log] = readdirSync(join(dir, 'outbox')).filter((n) => n.endsWith('.log'));
    return { dir, outbox, log: join(dir, 'outbox', log as string) };
  }

  it('drops a half-written last record (the write a power cut interrupted) silently and keeps the others', async () => {
    const { dir, log } = await withFive();
    const whole = readFileSync(log);
    const lastRecordStart = whole.lastIndexOf('\n', whole.length - 2);
    writeFileSync(log, whole.subarray(0, lastRecordStart + Math.floor((whole.length - lastRecordStart) / 2)));
    const problems: string[] = [];
    const reopened = await Outbox.open(await FileStorage.open(dir), { onProblem: (p) => problems.push(p) });
    expect(await ats(reopened)).toEqual([1, 2, 3, 4]);
    expect(reopened.stats.discarded).toBe(1);
    expect(problems).toEqual([]);
    // New reports go to a new segment, never after the torn record.
    await reopened.add(event('play', 6));
    expect(await ats(await Outbox.open(await FileStorage.open(dir)))).toEqual([1, 2, 3, 4, 6]);
  });

  it('ignores zeros a power cut left at the end of a segment', async () => {
    const { dir, log } = await withFive();
    appendFileSync(log, Buffer.alloc(4096));
    const reopened = await Outbox.open(await FileStorage.open(dir));
    expect(await ats(reopened)).toEqual([1, 2, 3, 4, 5]);
  });

  it('skips a corrupted record in the middle, keeps the records after it, and reports the corruption', async () => {
    const { dir, log } = await withFive();
    const data = readFileSync(log);
    const second = data.indexOf('"at":2');
    data[second + 5] = '7'.charCodeAt(0); // one flipped byte: the CRC no longer matches
    writeFileSync(log, data);
    const problems: string[] = [];
    const reopened = await Outbox.open(await FileStorage.open(dir), { onProblem: (p) => problems.push(p) });
    expect(await ats(reopened)).toEqual([1, 3, 4, 5]);
    expect(problems).toEqual([expect.stringMatching(/1 corrupt record/)]);
  });

  it('survives a compaction cut short (reports in two segments) without duplicates, and finishes it', async () => {
    const { dir, outbox, log } = await withFive();
    await outbox.confirm([(await outbox.pending(1))[0]?.eventId as string]);
    copyFileSync(log, join(dir, 'outbox', '0000000099.log')); // the new copy was written, the old not yet removed
    const reopened = await Outbox.open(await FileStorage.open(dir));
    // The newer copy decides: it has no receipt, so report 1 is pending again (sent again, harmlessly).
    expect(await ats(reopened)).toEqual([1, 2, 3, 4, 5]);
    await reopened.add(event('play', 6));
    await reopened.idle();
    const logs = readdirSync(join(dir, 'outbox')).filter((n) => n.endsWith('.log'));
    expect(logs.length).toBeLessThanOrEqual(2);
    expect(await ats(await Outbox.open(await FileStorage.open(dir)))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a lost receipt file only brings confirmed reports back (to be receipted again); never loses pending ones', async () => {
    const { dir, outbox } = await withFive();
    const [first, second] = await outbox.pending(2);
    await outbox.confirm([first?.eventId as string, second?.eventId as string]);
    expect(await ats(await Outbox.open(await FileStorage.open(dir)))).toEqual([3, 4, 5]);
    for (const ack of readdirSync(join(dir, 'outbox')).filter((n) => n.endsWith('.ack')))
      rmSync(join(dir, 'outbox', ack));
    expect(await ats(await Outbox.open(await FileStorage.open(dir)))).toEqual([1, 2, 3, 4, 5]);
  });

  it('opens without writing (edge-agent status reads a running agent), and cleans up on the first change', async () => {
    const { dir } = await withFive();
    writeFileSync(join(dir, 'outbox', '0000000050.ack'), '\nffffffff orphan'); // its log was removed
    const before = readdirSync(join(dir, 'outbox')).sort();
    const reader = await Outbox.open(await FileStorage.open(dir));
    expect(reader.size).toBe(5);
    expect(readdirSync(join(dir, 'outbox')).sort()).toEqual(before);
    await reader.add(event('play', 6));
    await reader.idle();
    expect(readdirSync(join(dir, 'outbox'))).not.toContain('0000000050.ack');
  });
});

describe('Outbox when storage fails', () => {
  /** Writes half of an append, then fails (a card that dies mid-write, or fills up). */
  class TearingStorage extends MemoryStorage {
    tear = false;
    override async append(name: string, data: Buffer): Promise<void> {
      if (!this.tear) return super.append(name, data);
      await super.append(name, data.subarray(0, Math.floor(data.length / 2)));
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    }
  }

  it('rejects an add that could not be stored, keeps every add that resolved, and carries on', async () => {
    const storage = new TearingStorage();
    const outbox = await Outbox.open(storage);
    await outbox.add(event('play', 1));
    await outbox.add(event('play', 2));
    storage.tear = true;
    await expect(outbox.add(event('play', 3))).rejects.toMatchObject({ code: 'EIO' });
    storage.tear = false;
    await outbox.add(event('play', 4));
    expect(await ats(outbox)).toEqual([1, 2, 4]);
    expect(await ats(await Outbox.open(storage))).toEqual([1, 2, 4]);
  });

  it('rejects with ENOSPC on a full card and works again once there is room', async () => {
    const storage = new MemoryStorage(2000);
    const outbox = await Outbox.open(storage);
    const stored: number[] = [];
    let refused = 0;
    for (let i = 0; i < 20; i++)
      await outbox.add(event('play', i)).then(
        () => stored.push(i),
        (error: NodeJS.ErrnoException) => {
          expect(error.code).toBe('ENOSPC');
          refused++;
        },
      );
    expect(refused).toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThan(3);
    storage.setBudget(Number.POSITIVE_INFINITY);
    await outbox.add(event('play', 100));
    expect(await ats(await Outbox.open(storage))).toEqual([...stored, 100]);
  });

  it('does not reject a confirm when the receipts cannot be written; reports the problem', async () => {
    class NoAcks extends MemoryStorage {
      override async append(name: string, data: Buffer): Promise<void> {
        if (name.endsWith('.ack')) throw new Error('EROFS: read-only file system');
        return super.append(name, data);
      }
    }
    const problems: string[] = [];
    const outbox = await Outbox.open(new NoAcks(), { onProblem: (p) => problems.push(p) });
    const e = event('play', 1);
    await outbox.add(e);
    await outbox.add(event('play', 2));
    expect(await outbox.confirm([e.eventId])).toBe(1);
    expect(await ats(outbox)).toEqual([2]);
    expect(problems).toEqual([expect.stringMatching(/could not record receipts: EROFS/)]);
  });

  it('refuses what is not a report', async () => {
    const outbox = await Outbox.open(new MemoryStorage());
    await expect(outbox.add({ eventId: 'x', type: 'telemetry' } as unknown as ReceiverEvent)).rejects.toThrow(
      TypeError,
    );
    expect(outbox.size).toBe(0);
  });
});

/**
 * Storage that loses power at its `crashAt`-th change: that change is cut short (an
 * append keeps half its bytes, anything else does not happen), nothing after it reaches
 * the storage, and no promise settles again, as if the process had died.
 */
class PowerCut implements Storage {
  changes = 0;
  atomicWrites = 0;
  dead = false;
  readonly #died: () => void;
  readonly died: Promise<void>;
  constructor(
    readonly inner: MemoryStorage,
    readonly crashAt = Number.POSITIVE_INFINITY,
  ) {
    let died = () => {};
    this.died = new Promise((resolve) => {
      died = resolve;
    });
    this.#died = died;
  }
  #change<T>(apply: () => Promise<T>, torn?: () => Promise<void>): Promise<T> {
    if (this.dead) return new Promise(() => {});
    if (++this.changes < this.crashAt) return apply();
    this.dead = true;
    this.#died();
    return (torn ?? (async () => {}))().then(() => new Promise<T>(() => {}));
  }
  read(name: string) {
    return this.dead ? new Promise<undefined>(() => {}) : this.inner.read(name);
  }
  list(prefix: string) {
    return this.dead ? new Promise<string[]>(() => {}) : this.inner.list(prefix);
  }
  size(name: string) {
    return this.dead ? new Promise<undefined>(() => {}) : this.inner.size(name);
  }
  writeAtomic(name: string, data: Buffer | string) {
    if (!this.dead) this.atomicWrites++;
    return this.#change(() => this.inner.writeAtomic(name, data));
  }
  append(name: string, data: Buffer) {
    return this.#change(
      () => this.inner.append(name, data),
      () => this.inner.append(name, data.subarray(0, Math.floor(data.length / 2))),
    );
  }
  rename(from: string, to: string) {
    return this.#change(() => this.inner.rename(from, to));
  }
  remove(name: string) {
    return this.#change(() => this.inner.remove(name));
  }
}

describe('Outbox power cut at every storage change', () => {
  /** Adds, out-of-order receipts, restarts: segment rolls, removals and compactions. */
  async function workload(
    storage: Storage,
    told: { added: Set<string>; confirming: Set<string>; confirmed: Set<string> },
  ) {
    const options = { segmentBytes: 1024, maxSegments: 2 };
    let at = 0;
    for (let boot = 0; boot < 3; boot++) {
      const outbox = await Outbox.open(storage, options);
      for (let i = 0; i < 12; i++) {
        const batch = [event('play', at++), ...(i % 3 === 0 ? [event('cache', at++)] : [])];
        await Promise.all(batch.map((e) => outbox.add(e).then(() => told.added.add(e.eventId))));
        if (i % 4 === 3) {
          const chosen = (await outbox.pending(1000)).filter((e) => e.at % 3 !== 0).map((e) => e.eventId);
          for (const id of chosen) told.confirming.add(id);
          await outbox.confirm(chosen);
          for (const id of chosen) told.confirmed.add(id);
        }
      }
      await outbox.idle();
    }
  }

  it('keeps every report whose add resolved, brings back none confirmed, wherever the power goes', async () => {
    const dry = new PowerCut(new MemoryStorage());
    await workload(dry, { added: new Set(), confirming: new Set(), confirmed: new Set() });
    expect(dry.changes).toBeGreaterThan(50);
    expect(dry.atomicWrites).toBeGreaterThan(1); // compactions (the outbox's only atomic writes)
    for (let crashAt = 1; crashAt <= dry.changes; crashAt++) {
      const storage = new PowerCut(new MemoryStorage(), crashAt);
      const told = { added: new Set<string>(), confirming: new Set<string>(), confirmed: new Set<string>() };
      await Promise.race([workload(storage, told), storage.died]);
      expect(storage.dead).toBe(true);
      // Power back on.
      const problems: string[] = [];
      const outbox = await Outbox.open(storage.inner, { onProblem: (p) => problems.push(p) });
      const held = new Set((await outbox.pending(10_000)).map((e) => e.eventId));
      const lost = [...told.added].filter((id) => !told.confirming.has(id) && !held.has(id));
      expect(lost, `lost after a cut at change ${crashAt}`).toEqual([]);
      const back = [...told.confirmed].filter((id) => held.has(id));
      expect(back, `confirmed reports back after a cut at change ${crashAt}`).toEqual([]);
      expect(problems, `cut at change ${crashAt}`).toEqual([]);
      // And it carries on from there.
      await outbox.add(event('play', 999));
      await outbox.idle();
      expect((await Outbox.open(storage.inner)).size).toBe(held.size + 1);
    }
  });
});
