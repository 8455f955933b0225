// Runs one benchmark: `npm run bench -- <name> [--option value ...]`, or `--list`.
//
// A benchmark is a module `<package>/bench/<name>.bench.ts` whose default export takes
// the options and returns its raw samples and those of a baseline measured in the same
// run. This runner owns the convention: HDR histograms, percentiles, the ratio against
// the baseline, the `RESULT <name> <json>` line and bench-results/<name>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { summarise as summariseLatencies } from '../simulator/src/metrics/latency.js';

export interface BenchOutcome {
  /** Items measured (receivers, commands, ...). */
  n: number;
  /** One latency per measured event, in milliseconds. */
  samplesMs: number[];
  /** The same measure for the baseline, taken in this run; null when none applies. */
  baselineSamplesMs: number[] | null;
  /** Share of events that succeeded (0-1); null when it does not apply. */
  okFraction: number | null;
  /** Anything else worth recording (throughput, settings, memory). */
  extra?: Record<string, unknown>;
}

export type Benchmark = (options: Record<string, string>) => Promise<BenchOutcome>;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['protocols', 'controller', 'edge-agent', 'simulator', 'dashboard'];

function discover(): Map<string, string> {
  const found = new Map<string, string>();
  for (const pkg of PACKAGES) {
    let names: string[] = [];
    try {
      names = readdirSync(join(root, pkg, 'bench'));
    } catch {
      continue;
    }
    for (const file of names) {
      const match = /^(.+)\.bench\.ts$/.exec(file);
      if (match?.[1]) found.set(match[1], join(root, pkg, 'bench', file));
    }
  }
  return found;
}

function parseOptions(args: string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}; options are --name value`);
    const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) options[key] = inline;
    else if (args[i + 1] !== undefined && !(args[i + 1] as string).startsWith('--')) options[key] = args[++i] as string;
    else options[key] = 'true';
  }
  return options;
}

/** Percentiles through an HDR histogram (the simulator's, so every figure is computed one way). */
export const summarise = summariseLatencies;

async function main() {
  const [name, ...rest] = process.argv.slice(2);
  const benchmarks = discover();
  if (!name || name === '--list' || name === '--help') {
    console.log('usage: npm run bench -- <name> [--option value ...]\n\nbenchmarks:');
    for (const [bench, path] of benchmarks) console.log(`  ${bench.padEnd(20)} ${relative(root, path)}`);
    process.exit(name ? 0 : 2);
  }
  const path = benchmarks.get(name);
  if (!path) {
    console.error(`unknown benchmark ${name}; known: ${[...benchmarks.keys()].join(', ') || 'none'}`);
    process.exit(2);
  }
  const options = parseOptions(rest);
  const run = (await import(pathToFileURL(path).href)).default as Benchmark;
  const outcome = await run(options);
  const measured = summarise(outcome.samplesMs);
  const baseline = outcome.baselineSamplesMs ? summarise(outcome.baselineSamplesMs) : null;
  const result = {
    name,
    n: outcome.n,
    p50_ms: measured?.p50_ms ?? null,
    p95_ms: measured?.p95_ms ?? null,
    p99_ms: measured?.p99_ms ?? null,
    max_ms: measured?.max_ms ?? null,
    baseline_p50_ms: baseline?.p50_ms ?? null,
    baseline_p99_ms: baseline?.p99_ms ?? null,
    ratio: measured && baseline ? Number((measured.p99_ms / baseline.p99_ms).toFixed(3)) : null,
    ok_fraction: outcome.okFraction,
    command: ['npm run bench --', name, ...rest].join(' '),
    at: new Date().toISOString(),
    ...outcome.extra,
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`RESULT ${name} ${JSON.stringify(result)}`);
}

await main();
