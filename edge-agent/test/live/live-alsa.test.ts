import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey, trustedKeyFor } from '@loa/protocols';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { audioParts } from '../../src/service/parts.js';
import { RATE, scriptDir } from '../audio/helpers.js';

// No sound card here: a fake `aplay` first on PATH records the arguments it was started with.
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('live sound through ALSA', () => {
  it('runs aplay with a small buffer and an immediate start for live sessions, its defaults for files', async () => {
    const dir = scriptDir({ aplay: 'echo "$@" >> "$(dirname "$0")/args"\ncat > /dev/null' });
    vi.stubEnv('PATH', `${dir}:${process.env.PATH}`);
    const config = parseAgentConfig(
      {
        receiverId: 'rx-alsa-1',
        areas: [{ level: 'village', areaCode: '02680-01' }],
        trustedKeys: [trustedKeyFor(generateSigningKey())],
      },
      '/tmp',
      {},
    );
    const { sink, liveSink } = audioParts(config);
    for (const s of [sink, liveSink]) {
      const output = await s.open({ sampleRate: RATE, channels: 1 });
      await output.write(new Int16Array(480));
      await output.drain();
      await output.close();
    }
    expect(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n')).toEqual([
      '-q -t raw -f S16_LE -r 48000 -c 1 -D default',
      '-q -t raw -f S16_LE -r 48000 -c 1 -D default --buffer-time=200000 --period-time=10000 --start-delay=1',
    ]);
  });
});
