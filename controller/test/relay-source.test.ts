import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelaySource, type SourceExit } from '../src/relay/relay-source.js';
import { dominantTone, ToneStreamServer, toneFile } from './support/tone-stream.js';

const mp3 = new ToneStreamServer(toneFile(440, 10, 'mp3'), 'mp3', 10);
const aac = new ToneStreamServer(toneFile(660, 10, 'aac'), 'aac', 10);

beforeAll(async () => {
  await mp3.listen();
  await aac.listen();
});
afterAll(async () => {
  await mp3.kill();
  await aac.kill();
});

/** Pulls `url` until `ms` of audio came (or the source exited); answers the PCM and the exit, if any. */
async function pull(url: string, ms: number, timeoutMs = 10_000) {
  const chunks: Float32Array[] = [];
  let samples = 0;
  let exit: SourceExit | undefined;
  let enough: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const source = new RelaySource({
    url,
    timeoutMs,
    onPcm: (pcm) => {
      chunks.push(pcm);
      samples += pcm.length;
      if (samples >= (48_000 * ms) / 1000) enough();
    },
    onExit: (e) => {
      exit = e;
      enough();
    },
  });
  await done;
  const all = new Float32Array(samples);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return { source, pcm: all, exit };
}

const gone = (pid: number | undefined) => pid !== undefined && !existsSync(`/proc/${pid}`);

describe('relay source (ffmpeg pulling an HTTP stream)', () => {
  it('turns an MP3 stream into 48 kHz mono PCM of its tone, in real time', async () => {
    const started = Date.now();
    const { source, pcm, exit } = await pull(mp3.url, 1500);
    expect(exit).toBeUndefined();
    // -re: 1.5 s of audio takes about that long to arrive, burst or not.
    expect(Date.now() - started).toBeGreaterThan(1200);
    expect(dominantTone(pcm.subarray(24_000), [440, 660, 1000])).toBe(440);
    const stopped = await source.stop();
    expect(stopped.stopped).toBe(true);
    expect(gone(source.pid)).toBe(true);
  });

  it('reads AAC (ADTS) streams the same way', async () => {
    const { source, pcm } = await pull(aac.url, 1000);
    expect(dominantTone(pcm.subarray(12_000), [440, 660, 1000])).toBe(660);
    await source.stop();
    expect(gone(source.pid)).toBe(true);
  });

  it('stops cleanly in the middle of a stream: no process, no zombie, nothing more delivered', async () => {
    let chunks = 0;
    let audible: () => void = () => {};
    const playing = new Promise<void>((resolve) => {
      audible = resolve;
    });
    const source = new RelaySource({
      url: mp3.url,
      onPcm: () => {
        chunks++;
        audible();
      },
    });
    await playing;
    const pid = source.pid as number;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    const stopped = await Promise.race([source.stop(), new Promise((r) => setTimeout(r, 3000, 'hung'))]);
    expect(stopped).toMatchObject({ stopped: true, detail: '' });
    // A zombie keeps /proc/<pid> (state Z) until it is reaped.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    const atStop = chunks;
    await new Promise((r) => setTimeout(r, 300));
    expect(chunks).toBe(atStop);
    // Stopping again is harmless.
    await expect(source.stop()).resolves.toMatchObject({ stopped: true });
  });

  it('reports a refused connection as the exit, with ffmpeg’s words', async () => {
    const url = mp3.url.replace(/:\d+\//, ':1/');
    const { exit, source } = await pull(url, 1000);
    expect(exit).toMatchObject({ stopped: false });
    expect(exit?.detail).toMatch(/refused/i);
    expect(gone(source.pid)).toBe(true);
  });

  it('gives up on a server that answers but sends nothing, after the timeout', async () => {
    const silent = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/mpeg' });
      response.flushHeaders();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const { exit } = await pull(`http://127.0.0.1:${port}/`, 1000, 1500);
      expect(exit?.stopped).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('opens nothing but the network (a redirect or playlist cannot reach local files)', async () => {
    const { exit } = await pull('file:///etc/passwd', 1000);
    expect(exit?.detail).toMatch(/not on whitelist|Invalid argument/);
  });

  it('says so when ffmpeg cannot be started', async () => {
    let exit: SourceExit | undefined;
    const source = new RelaySource({
      url: mp3.url,
      ffmpegPath: '/nonexistent/ffmpeg',
      onPcm: () => {},
      onExit: (e) => (exit = e),
    });
    await source.exited;
    expect(exit?.detail).toMatch(/could not be started.*ENOENT/);
  });
});
