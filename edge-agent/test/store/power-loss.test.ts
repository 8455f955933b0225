import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DurableDocument } from '../../src/store/durable-document.js';
import { FileStorage } from '../../src/store/file-storage.js';
import { Outbox } from '../../src/store/outbox.js';
import { ReplayStore } from '../../src/store/replay-store.js';
import { CrashDoc, padLength } from './fixtures/crash-doc.js';
import { tempDir } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const ROUNDS = 6;
// Document saves are where a write that is not atomic would show, so half the rounds cut one.
const WRITE_STARTS = ['saving', 'adding', 'saving', 'confirming', 'saving', 'committing'];

type Writer = ChildProcessByStdio<Writable, Readable, Readable>;

/** What the writers said about their writes, across all rounds. */
interface Told {
  /** Highest document save that resolved, and the one started after it. */
  saved: number;
  saving: number;
  /** Reports whose add resolved and that no confirm was started for. */
  mustHave: Set<string>;
  /** Reports an add was started for (anything else found is a phantom). */
  started: Set<string>;
  /** Reports whose confirm resolved. */
  confirmed: Set<string>;
  /** Commands whose replay state save resolved. */
  committed: [number, string][];
}

/**
 * How to start the writer. Through tsx a child takes one to two seconds to start (every
 * module of the store and of protocols goes through its loader), so the writer is bundled
 * once with esbuild (tsx's own dependency) and each round starts in a fraction of that.
 */
async function writerArgs(): Promise<string[]> {
  try {
    const { build } = await import('esbuild');
    const outfile = join(tempDir(), 'crash-writer.mjs');
    await build({
      entryPoints: [WRITER],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      logLevel: 'error',
      // Bundled CommonJS dependencies (ajv) call require.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    return [outfile];
  } catch {
    return ['--conditions', 'source', '--import', 'tsx', WRITER];
  }
}

/** Starts a writer, which loads and then waits to be told to go. */
function startWriter(args: string[], dir: string, round: number): { child: Writer; stderr: () => string } {
  const child = spawn(process.execPath, [...args, dir, String(round)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stderr: () => stderr };
}

/**
 * Lets the writer go until it has printed `after` lines, then SIGKILLs it as it starts
 * its next write of the chosen kind, after a random delay of up to a couple of
 * milliseconds: the process stops between two instructions in the middle of that write.
 * (A SIGKILL keeps what reached the kernel; a real power cut also loses what was not
 * fsynced, which the fsync discipline in FileStorage is for and a test cannot cut.)
 */
async function runAndKill(
  writer: { child: Writer; stderr: () => string },
  kill: { after: number; during: string; delayMs: number },
  told: Told,
): Promise<void> {
  const { child } = writer;
  let buffered = '';
  let lines = 0;
  let killing = false;
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      const [what, a, b] = line.split(' ') as [string, string, string];
      if (what === 'saving') told.saving = Number(a);
      if (what === 'saved') told.saved = Number(a);
      if (what === 'adding') told.started.add(a);
      if (what === 'added') told.mustHave.add(a);
      if (what === 'confirming') told.mustHave.delete(a);
      if (what === 'confirmed') told.confirmed.add(a);
      if (what === 'committed') told.committed.push([Number(a), b]);
      lines++;
      if (!killing && lines >= kill.after && (what === kill.during || lines > kill.after + 500)) {
        killing = true;
        if (kill.delayMs === 0) child.kill('SIGKILL');
        else setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    }
  });
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  child.stdin.write('go\n');
  const [code, signal] = await exited;
  expect(writer.stderr(), 'the writer failed').toBe('');
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.split('/').pop()?.startsWith('.tmp-'));
}

describe('power loss in the middle of writes', () => {
  it('loses nothing that was reported durable, leaves every file readable and no temp junk, round after round', async () => {
    const dir = tempDir();
    const told: Told = {
      saved: -1,
      saving: -1,
      mustHave: new Set(),
      started: new Set(),
      confirmed: new Set(),
      committed: [],
    };
    const args = await writerArgs();
    // All writers load at once; each touches nothing until told to go.
    const writers = Array.from({ length: ROUNDS }, (_, round) => startWriter(args, dir, round));
    onTestFinished(() => {
      for (const { child } of writers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    for (const [round, writer] of writers.entries()) {
      const kill = {
        // At least ten lines: the writer's first pass, with every kind of write, completes.
        after: 10 + Math.floor(Math.random() * 50),
        during: WRITE_STARTS[round % WRITE_STARTS.length] as string,
        delayMs: Math.floor(Math.random() * 3),
      };
      await runAndKill(writer, kill, told);
      const where = `round ${round}, killed ${JSON.stringify(kill)}`;

      // Power back: what a receiver does at boot.
      const storage = await FileStorage.open(dir);
      expect(tempFiles(dir), `temp files left after open, ${where}`).toEqual([]);

      const problems: string[] = [];
      const doc = await new DurableDocument(
        storage,
        'state/doc.json',
        CrashDoc,
        () => ({ i: -1, round: -1, pad: 'default' }),
        (_n, p) => problems.push(p),
      ).load();
      // The last save reported done, or the one under way when the power went; whole.
      expect([told.saved, told.saving], where).toContain(doc.i);
      expect(doc.pad.length, where).toBe(doc.i < 0 ? 7 : padLength(doc.i));

      const outbox = await Outbox.open(storage, { onProblem: (p) => problems.push(p) });
      const held = new Set((await outbox.pending(100_000)).map((e) => e.eventId));
      const lost = [...told.mustHave].filter((id) => !held.has(id));
      expect(lost, `reports lost, ${where}`).toEqual([]);
      const phantoms = [...held].filter((id) => !told.started.has(id));
      expect(phantoms, `reports that were never added, ${where}`).toEqual([]);
      const back = [...told.confirmed].filter((id) => held.has(id));
      expect(back, `confirmed reports back, ${where}`).toEqual([]);

      const replay = await ReplayStore.open(storage, (p) => problems.push(p));
      for (const [seq, id] of told.committed)
        expect(replay.guard.check('controller', seq, id), `command ${seq}, ${where}`).toBe('replayed');

      expect(problems, where).toEqual([]);
    }
    // The rounds did real work: many writes, with reports, receipts and commands, survived.
    expect(told.saved).toBeGreaterThanOrEqual(ROUNDS - 1);
    expect(told.started.size).toBeGreaterThanOrEqual(ROUNDS);
    expect(told.confirmed.size).toBeGreaterThan(0);
    expect(told.committed.length).toBeGreaterThan(0);
  }, 30_000);
});
