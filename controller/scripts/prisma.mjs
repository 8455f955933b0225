#!/usr/bin/env node
// Runs the Prisma CLI the way it works offline: telemetry off, the timer preload, and a
// DATABASE_URL (the 6.19 CLI needs one even for `generate`; the default is the
// controller's loopback database). Usage: node scripts/prisma.mjs <prisma args...>
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const preload = pathToFileURL(join(root, 'scripts', 'unref-timers.mjs')).href;

const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/loa',
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(),
  },
});
process.exit(result.status ?? 1);
