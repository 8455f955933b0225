import type { AgentConfig } from '../config/agent-config.js';
import { ScheduleBook } from '../schedule-book.js';
import { FileStorage } from '../store/file-storage.js';
import { Outbox } from '../store/outbox.js';

/** What a receiver holds, read from its data directory (works whether the agent runs or not). */
export async function readStatus(config: AgentConfig) {
  const storage = await FileStorage.open(config.dataDir);
  const book = await ScheduleBook.open(storage);
  const outbox = await Outbox.open(storage);
  const handled = new Set(book.handled().map(([id]) => id));
  const now = Date.now();
  const faults = await storage.read('faults.json');
  const assets = (await storage.list('assets')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  return {
    receiverId: config.receiverId,
    scheduleVersion: book.version() ?? null,
    next: book
      .items()
      .filter((i) => i.startAt > now && !handled.has(i.itemId))
      .slice(0, 10)
      .map((i) => ({ at: new Date(i.startAt).toISOString(), itemId: i.itemId, title: i.title, priority: i.priority })),
    faults: faults ? (JSON.parse(faults.toString()) as string[]) : [],
    outbox: outbox.size,
    cache: { assets: assets.length, needed: book.assets().length },
  };
}
