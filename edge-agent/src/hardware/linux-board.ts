import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { formatIssues, Telemetry, validate } from '@loa/protocols';
import type { TSchema } from '@sinclair/typebox';
import type { Board, Modem } from './seams.js';

const run = promisify(execFile);

/**
 * Runs a configured shell command that prints one JSON object and checks it against a
 * schema. Board-specific facts (modem signal, battery) come from such commands because
 * every receiver model reports them differently.
 */
export async function jsonFromCommand<T>(command: string, schema: TSchema, timeoutMs = 5000): Promise<T> {
  const { stdout } = await run('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 64 * 1024 });
  const checked = validate(schema, JSON.parse(stdout));
  if (!checked.ok) throw new Error(`"${command}" printed ${formatIssues(checked.errors)}`);
  return checked.value as T;
}

/** The modem, asked through a configured command; unknown when none is configured or it fails. */
export function commandModem(command: string | undefined): Modem {
  return {
    async read() {
      if (!command) return { type: 'unknown' };
      return jsonFromCommand(command, Telemetry.properties.network);
    },
  };
}

/** A Linux single-board computer: thermal zone, data-directory file system, power and reboot commands. */
export function linuxBoard(options: {
  dataDir: string;
  temperatureFile: string;
  powerCommand?: string;
  rebootCommand: string;
}): Board {
  return {
    async temperatureC() {
      try {
        const milli = Number((await readFile(options.temperatureFile, 'utf8')).trim());
        return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : undefined;
      } catch {
        return undefined;
      }
    },
    async power() {
      if (!options.powerCommand) return { mains: true };
      return jsonFromCommand(options.powerCommand, Telemetry.properties.power);
    },
    async disk() {
      const fs = await statfs(options.dataDir);
      return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
    },
    async reboot() {
      await run('/bin/sh', ['-c', options.rebootCommand], { timeout: 30_000 });
    },
  };
}
