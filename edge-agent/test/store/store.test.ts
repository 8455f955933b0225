import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ReceiverEvent, ReplayGuard } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { DurableDocument } from '../../src/store/durable-document.js';
import { FileStorage } from '../../src/store/file-storage.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { Outbox } from '../../src/store/outbox.js';
import { ReplayStore } from '../../src/store/replay-store.js';

const temp = () => mkdtempSync(join(tmpdir(), 'agent-store-'));
const event = (type: ReceiverEvent['type'], at = 0): ReceiverEvent =>
  type === 'play'
    ? {
        v: 1,
        eventId: randomUUID(),
        receiverId: 'rx-1',
        at,
        type,
        itemId: 'x',
        source: 'schedule',
        state: 'finished',
        priority: 'normal',
      }
    : { v: 1, eventId: randomUUID(), receiverId: 'rx-1', at, type: 'cache', sha256: 'c'.repeat(64), state: 'ready' };

describe('file storage', () => {
  it('writes atomically, appends, renames, lists, and refuses names outside the directory', async () => {
    const storage = await FileStorage.open(temp());
    await storage.writeAtomic('a/b.json', '{"x":1}');
    await storage.append('assets/x.part', Buffer.from('abc'));
    await storage.append('assets/x.part', Buffer.from('def'));
    await storage.rename('assets/x.part', 'assets/x');
    expect((await storage.read('assets/x'))?.toString()).toBe('abcdef');
    expect(await storage.list('assets')).toEqual(['x']);
    expect(await storage.size('a/b.json')).toBe(7);
    expect(await storage.read('nothing')).toBeUndefined();
    for (const bad of ['../etc/passwd', '/abs', 'a//b', 'a/./b', ''])
      await expect(storage.writeAtomic(bad, 'x')).rejects.toThrow(/invalid storage name/);
  });

  it('removes the temp files of writes a power cut interrupted', async () => {
    const dir = temp();
    writeFileSync(join(dir, '.tmp-deadbeef'), 'half a docu');
    const storage = await FileStorage.open(dir);
    expect(readdirSync(dir)).toEqual([]);
    expect(await storage.list('')).toEqual([]);
  });

  it('loses nothing that was acknowledged when the process dies mid-write, again and again', async () => {
    const dir = temp();
    const fixture = fileURLToPath(new URL('./fixtures/write-forever.ts', import.meta.url));
    const acknowledged = { doc: -1, events: new Set<string>() };
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buffered = '';
      let lines = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          lines++;
          const [kind, value] = line.split(' ');
          if (kind === 'doc') acknowledged.doc = Number(value);
          if (kind === 'event') acknowledged.events.add(value as string);
          if (kind === 'confirmed') acknowledged.events.delete(value as string);
        }
      });
      // Kill after a random number of writes, in the middle of whatever it is doing.
      const target = 20 + Math.floor(Math.random() * 60);
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (lines >= target) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        }, 1);
      });
      await new Promise((resolve) => child.once('exit', resolve));
      const storage = await FileStorage.open(dir);
      const doc = JSON.parse((await storage.read('doc.json'))?.toString() ?? 'null') as { i: number };
      // The last acknowledged write is there (or the one after it, if it completed unreported).
      expect(doc.i === acknowledged.doc || doc.i === acknowledged.doc + 1).toBe(true);
      const outbox = await Outbox.open(storage);
      const held = new Set((await outbox.pending(100_000)).map((e) => e.eventId));
      for (const id of acknowledged.events) expect(held.has(id), `event ${id} lost in round ${round}`).toBe(true);
      expect(readdirSync(dir).some((f) => f.startsWith('.tmp-'))).toBe(false);
    }
    expect(acknowledged.events.size).toBeGreaterThan(20);
  }, 60_000);
});

describe('durable document', () => {
  const Schema = Type.Object({ volume: Type.Integer({ minimum: 0, maximum: 100 }) });

  it('loads the default when missing, saves in call order, and sets a corrupt file aside', async () => {
    const storage = new MemoryStorage();
    const problems: string[] = [];
    const doc = new DurableDocument(
      storage,
      'settings.json',
      Schema,
      () => ({ volume: 80 }),
      (_n, p) => problems.push(p),
      () => 42,
    );
    expect(await doc.load()).toEqual({ volume: 80 });
    await Promise.all([doc.save({ volume: 10 }), doc.save({ volume: 20 }), doc.save({ volume: 30 })]);
    expect(await doc.load()).toEqual({ volume: 30 });
    await storage.writeAtomic('settings.json', '{"volume": 30');
    expect(await doc.load()).toEqual({ volume: 80 });
    expect(await storage.list('')).toContain('settings.json.corrupt-42');
    await storage.writeAtomic('settings.json', '{"volume": 300}');
    expect(await doc.load()).toEqual({ volume: 80 });
    expect(problems).toHaveLength(2);
    expect(problems[1]).toMatch(/volume/);
  });
});

describe('outbox', () => {
  it('keeps reports oldest first across restarts until confirmed', async () => {
    const storage = new MemoryStorage();
    const outbox = await Outbox.open(storage);
    const events = [event('play', 1), event('cache', 2), event('play', 3)];
    for (const e of events) await outbox.add(e);
    await outbox.add(events[0] as ReceiverEvent); // a repeat is kept once
    expect(await outbox.confirm([events[1]?.eventId as string, randomUUID()])).toBe(1);
    const reopened = await Outbox.open(storage);
    expect((await reopened.pending()).map((e) => e.at)).toEqual([1, 3]);
    await reopened.add(event('cache', 4));
    expect((await reopened.pending()).map((e) => e.at)).toEqual([1, 3, 4]);
  });

  it('when full, drops cache reports before proof of play, and counts them', async () => {
    const outbox = await Outbox.open(new MemoryStorage(), 3);
    await outbox.add(event('play', 1));
    await outbox.add(event('cache', 2));
    await outbox.add(event('play', 3));
    await outbox.add(event('play', 4));
    expect((await outbox.pending()).map((e) => e.at)).toEqual([1, 3, 4]);
    await outbox.add(event('play', 5));
    expect((await outbox.pending()).map((e) => e.at)).toEqual([3, 4, 5]);
    expect(outbox.stats.dropped).toBe(2);
  });

  it('survives a torn report file: it is discarded, the others are kept', async () => {
    const dir = temp();
    const storage = await FileStorage.open(dir);
    const outbox = await Outbox.open(storage);
    await outbox.add(event('play', 1));
    await outbox.add(event('play', 2));
    const [first] = readdirSync(join(dir, 'outbox')).sort();
    writeFileSync(
      join(dir, 'outbox', first as string),
      readFileSync(join(dir, 'outbox', first as string)).subarray(0, 20),
    );
    const reopened = await Outbox.open(await FileStorage.open(dir));
    expect((await reopened.pending()).map((e) => e.at)).toEqual([2]);
  });
});

describe('replay store', () => {
  it('refuses after a restart a command seen before it', async () => {
    const storage = new MemoryStorage();
    const store = await ReplayStore.open(storage);
    const id = randomUUID();
    expect(store.guard.check('ctl', 7, id)).toBe('fresh');
    store.guard.commit('ctl', 7, id, Date.now() + 60_000);
    await store.save();
    const restarted = await ReplayStore.open(storage);
    expect(restarted.guard.check('ctl', 7, id)).toBe('replayed');
    expect(restarted.guard.check('ctl', 8, randomUUID())).toBe('fresh');
  });

  it('starts empty (and says so) when the state is unreadable', async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic('replay-state.json', 'garbage');
    const problems: string[] = [];
    const store = await ReplayStore.open(storage, (p) => problems.push(p));
    expect(store.guard).toBeInstanceOf(ReplayGuard);
    expect(problems[0]).toMatch(/replay state unreadable/);
  });
});

describe('memory storage', () => {
  it('runs out of space like a full card', async () => {
    const storage = new MemoryStorage(10);
    await storage.writeAtomic('a', '12345');
    await expect(storage.append('a', Buffer.from('123456'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await storage.writeAtomic('a', '1234567890');
    expect(await storage.size('a')).toBe(10);
  });
});
