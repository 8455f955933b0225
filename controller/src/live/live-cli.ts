// `npm run live --workspace controller -- push <file.wav> --areas <areaId|code,...> [options]`:
// speaks a WAV file live to receivers, as an official would from the browser.
import { parseArgs } from 'node:util';
import { PushError, pushWav } from './live-push.js';

const USAGE = `usage: npm run live --workspace controller -- push <file.wav> --areas <areaId|code,...> [options]
  --receivers <id,...>   single receivers as well
  --title <text>         what the session is called (default: the file name)
  --url <url>            the controller (default LOA_URL, else http://127.0.0.1:8080)
  --token <token>        an API token (default LOA_TOKEN; create one with POST /auth/tokens)
  --latency <ms>         playout delay, 50-2000 (default 250)
  --volume <0-100>       default 80
  --prelude chime|none   default chime
  --language <code>      ISO 639-3 code of the speech (vie, hmn, ...)`;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new PushError(`--${name} must be a whole number, not ${JSON.stringify(value)}`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, file] = positionals;
  if (command !== 'push' || !file || positionals.length > 2) {
    console.error(USAGE);
    return 2;
  }
  const token = values.token ?? process.env.LOA_TOKEN;
  if (!token) {
    console.error('no API token: pass --token or set LOA_TOKEN (create one with POST /auth/tokens)');
    return 2;
  }
  const areas = list(values.areas);
  const receivers = list(values.receivers);
  if (areas.length + receivers.length === 0) {
    console.error(`name at least one area (--areas) or receiver (--receivers)\n${USAGE}`);
    return 2;
  }
  const prelude = values.prelude;
  if (prelude !== undefined && prelude !== 'chime' && prelude !== 'none') {
    console.error('--prelude must be chime or none');
    return 2;
  }
  const tty = process.stdout.isTTY;
  // On a terminal the progress line is rewritten in place; a message after it starts a new line.
  let midLine = false;
  const endLine = () => {
    if (midLine) process.stdout.write('\n');
    midLine = false;
  };
  try {
    const latencyMs = integer('latency', values.latency);
    const volume = integer('volume', values.volume);
    await pushWav(
      {
        file,
        areas,
        receivers,
        url: values.url ?? process.env.LOA_URL ?? 'http://127.0.0.1:8080',
        token,
        ...(values.title ? { title: values.title } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        ...(volume !== undefined ? { volume } : {}),
        ...(prelude ? { prelude } : {}),
        ...(values.language ? { language: values.language } : {}),
      },
      {
        out: (line) => {
          endLine();
          console.log(line);
        },
        progress: (line) => {
          if (!tty) return console.log(line);
          process.stdout.write(`\r${line}`);
          midLine = true;
        },
      },
    );
    return 0;
  } catch (error) {
    endLine();
    console.error(error instanceof PushError ? error.message : `failed: ${(error as Error).stack ?? error}`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      areas: { type: 'string' },
      receivers: { type: 'string' },
      title: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      latency: { type: 'string' },
      volume: { type: 'string' },
      prelude: { type: 'string' },
      language: { type: 'string' },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
