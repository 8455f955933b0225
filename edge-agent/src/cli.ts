#!/usr/bin/env node
// The receiver's command line: `edge-agent run|status|test-tone|check-line|version --config <file>`.
import { parseArgs } from 'node:util';
import { AGENT_VERSION, Agent } from './agent.js';
import { testTone } from './audio/tones.js';
import { AgentConfigError, loadAgentConfig } from './config/agent-config.js';
import { systemClock } from './hardware/system-clock.js';
import { audioParts, type Log, receiverParts } from './service/parts.js';
import { readStatus } from './service/status.js';
import { SystemdNotifier } from './service/systemd-notify.js';

const USAGE = `usage: edge-agent <command> [--config /etc/loa-agent/agent.json]
  run         run the agent (the systemd service does this)
  status      what this receiver holds: schedule, next airtimes, faults, outbox, cache
  test-tone   play a 1 kHz tone through the amplifier and speakers (installation check)
  check-line  silent amplifier and speaker-line check (needs amplifier.lineCheckCommand)
  version     print the agent version`;

/** Structured logs: one JSON object per line on stdout (journald keeps them). */
const log: Log = (message, detail) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg: message, ...detail })}\n`);

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { config: { type: 'string', default: '/etc/loa-agent/agent.json' }, ms: { type: 'string' } },
  });
  const command = positionals[0];
  if (command === 'version') {
    console.log(AGENT_VERSION);
    return 0;
  }
  if (!command || !['run', 'status', 'test-tone', 'check-line'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadAgentConfig(values.config as string);
  if (command === 'status') {
    console.log(JSON.stringify(await readStatus(config), null, 2));
    return 0;
  }
  if (command === 'test-tone' || command === 'check-line') {
    const { sink, amplifier } = audioParts(config, systemClock);
    if (command === 'check-line') {
      const check = await amplifier.silentCheck();
      console.log(JSON.stringify(check));
      return check.ok ? 0 : 1;
    }
    await amplifier.acquire();
    const output = await sink.open({ sampleRate: 48_000, channels: 1 });
    await output.write(testTone(Number(values.ms ?? 3000)));
    await output.drain();
    await output.close();
    amplifier.release();
    await amplifier.shutdown(); // the relay off now, not after the hold time
    console.log('test tone played');
    return 0;
  }
  const notifier = new SystemdNotifier();
  // Signals are taken from the start, so a stop during start-up is still clean.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const agent = await Agent.start(await receiverParts(config, log));
  await notifier.ready(`receiver ${config.receiverId}`);
  const watchdog = notifier.watchdogMs
    ? setInterval(() => void notifier.alive(), Math.max(1000, notifier.watchdogMs / 2))
    : undefined;
  await stopped;
  if (watchdog) clearInterval(watchdog);
  await agent.stop('shutdown');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof AgentConfigError ? error.message : error);
    process.exit(error instanceof AgentConfigError ? 2 : 1);
  },
);
