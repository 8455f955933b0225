import { randomUUID } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStorage } from '../../src/store/file-storage.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { REPLAY_STATE_NAME, ReplayStore } from '../../src/store/replay-store.js';
import { tempDir } from './helpers.js';

const HOUR = 3_600_000;

describe('ReplayStore', () => {
  it('refuses after a restart a command accepted before it (on disk)', async () => {
    const dir = tempDir();
    const store = await ReplayStore.open(await FileStorage.open(dir));
    const id = randomUUID();
    expect(store.guard.check('controller', 7, id)).toBe('fresh');
    store.guard.commit('controller', 7, id, Date.now() + HOUR);
    await store.save();

    const restarted = await ReplayStore.open(await FileStorage.open(dir));
    expect(restarted.guard.check('controller', 7, id)).toBe('replayed');
    expect(restarted.guard.check('controller', 7, randomUUID())).toBe('replayed'); // same sequence number
    expect(restarted.guard.check('other-issuer', 7, id)).toBe('replayed'); // same command id
    expect(restarted.guard.check('controller', 8, randomUUID())).toBe('fresh');
  });

  it('keeps the sequence floor of forgotten commands across a restart (a clock that jumped back)', async () => {
    const storage = new MemoryStorage();
    const store = await ReplayStore.open(storage);
    const now = Date.now();
    store.guard.commit('controller', 5, randomUUID(), now - HOUR); // already expired
    store.guard.commit('controller', 9, randomUUID(), now + HOUR);
    expect(store.guard.prune(now)).toBe(1);
    await store.save();
    const restarted = await ReplayStore.open(storage);
    expect(restarted.guard.check('controller', 5, randomUUID())).toBe('stale_sequence');
    expect(restarted.guard.check('controller', 4, randomUUID())).toBe('stale_sequence');
  });

  it('is saved before save() resolves, and concurrent saves end with the newest state', async () => {
    const storage = new MemoryStorage();
    const store = await ReplayStore.open(storage);
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const saves = ids.map((id, seq) => {
      store.guard.commit('controller', seq, id, Date.now() + HOUR);
      return store.save();
    });
    await saves[0];
    expect((await ReplayStore.open(storage)).guard.check('controller', 0, ids[0] as string)).toBe('replayed');
    await Promise.all(saves);
    const restarted = await ReplayStore.open(storage);
    for (const [seq, id] of ids.entries()) expect(restarted.guard.check('controller', seq, id)).toBe('replayed');
  });

  it('passes guard options on (memory bound per issuer)', async () => {
    const storage = new MemoryStorage();
    const store = await ReplayStore.open(storage, undefined, { maxEntriesPerIssuer: 2 });
    for (let seq = 1; seq <= 3; seq++) store.guard.commit('controller', seq, randomUUID(), Date.now() + HOUR);
    expect(store.guard.size).toBe(2);
  });

  it('starts empty, sets the damaged state aside and says so, when the state is unreadable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, REPLAY_STATE_NAME), '{"v":1,"issuers":{"controller":{"floor":3,"seen":[[4,');
    const problems: string[] = [];
    const store = await ReplayStore.open(await FileStorage.open(dir), (p) => problems.push(p));
    expect(store.guard.size).toBe(0);
    expect(problems).toEqual([expect.stringMatching(/replay state unreadable.*not valid JSON.*kept as/)]);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${REPLAY_STATE_NAME}.corrupt-`))).toHaveLength(1);
    // The next accepted command is saved over a clean slate.
    const id = randomUUID();
    store.guard.commit('controller', 10, id, Date.now() + HOUR);
    await store.save();
    const restarted = await ReplayStore.open(await FileStorage.open(dir), (p) => problems.push(p));
    expect(restarted.guard.check('controller', 10, id)).toBe('replayed');
    expect(problems).toHaveLength(1);
  });

  it('rejects a state that parses but is not a replay state', async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic(REPLAY_STATE_NAME, '{"v":2,"issuers":{}}');
    const problems: string[] = [];
    await ReplayStore.open(storage, (p) => problems.push(p));
    expect(problems).toEqual([expect.stringMatching(/replay state unreadable/)]);
  });
});
