import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceiverEvent } from '@loa/protocols';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the file's tests. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loa-store-'));
  made.push(dir);
  return dir;
}

/** A valid report of the given type; `at` tells reports apart in assertions. */
export function event(type: ReceiverEvent['type'], at = 0, eventId = randomUUID()): ReceiverEvent {
  const head = { v: 1 as const, eventId, receiverId: 'rx-1', at };
  switch (type) {
    case 'ack':
      return { ...head, type, commandId: `cmd-${at}`, result: 'accepted' };
    case 'play':
      return { ...head, type, itemId: `item-${at}`, source: 'schedule', state: 'finished', priority: 'normal' };
    case 'fault':
      return { ...head, type, code: 'amplifier_fault', state: 'raised' };
    case 'cache':
      return { ...head, type, sha256: 'c'.repeat(64), state: 'ready' };
  }
}
