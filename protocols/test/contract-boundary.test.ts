import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_KINDS, TOPIC_ROOT, TOPIC_SPECS } from '@loa/protocols';
import { describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGES = ['controller', 'edge-agent', 'simulator', 'dashboard'];

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules' || name === 'dist') return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('the wire contract lives only in protocols', () => {
  const files = PACKAGES.flatMap((p) => sourceFiles(join(repo, p)));

  it('scans the other packages', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('no other package spells a topic', () => {
    const topicPieces = [
      TOPIC_ROOT,
      ...Object.values(TOPIC_SPECS)
        .map((s) => s.pattern.split('{')[0] ?? '')
        .filter((p) => p.length > 3),
    ];
    const offenders = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return topicPieces
        .filter((piece) => new RegExp(`['"\`]${piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`).test(text))
        .map((piece) => `${relative(repo, file)}: ${piece}`);
    });
    expect(offenders).toEqual([]);
  });

  it('no other package declares a command kind or a schema of a wire message', () => {
    const offenders = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      // Declaring a kind means putting it in a schema; naming it to sign a command is use.
      const kinds = COMMAND_KINDS.filter((k) => k.includes('.') && text.includes(`Type.Literal('${k}')`));
      const schemas =
        /\$id:\s*['"](CommandEnvelope|ReceiverState|Telemetry|\w+Event|\w+Body|Time(Request|Response))['"]/.test(text);
      return [...kinds.map((k) => `${relative(repo, file)}: ${k}`), ...(schemas ? [relative(repo, file)] : [])];
    });
    expect(offenders).toEqual([]);
  });
});
