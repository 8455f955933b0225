import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioJobs } from '../src/audio/audio-jobs.js';
import type { AudioJobView } from '../src/audio/audio-work.js';
import { AudioRefusal } from '../src/audio/decoding/audio-refusal.js';
import { loadControllerConfig } from '../src/config.js';
import { EspeakNgEngine } from '../src/speech/espeak-ng-engine.js';
import { HttpSpeechEngine, parseVoices } from '../src/speech/http-speech-engine.js';
import { TransientSpeechError } from '../src/speech/speech-engine.js';
import { speechLike, wavBytes } from './support/audio-fixtures.js';

const config = loadControllerConfig();
const dir = mkdtempSync(join(tmpdir(), 'loa-audio-jobs-'));

describe('audio jobs (BullMQ): every way a job ends', () => {
  let jobs: AudioJobs;
  const seen: AudioJobView[] = [];
  let runs = 0;

  beforeAll(() => {
    jobs = new AudioJobs({ redisUrl: config.REDIS_URL, prefix: `test-${randomUUID()}`, attempts: 2 });
    jobs.work(
      async (work, _actor, progress) => {
        runs++;
        if (work.kind !== 'upload') throw new Error('only uploads here');
        progress({ stage: 'measuring', fraction: 0.5 });
        if (work.filename === 'flaky' && runs % 2 === 1) throw new Error('ffmpeg was killed');
        if (work.filename === 'broken') throw new Error('ffmpeg was killed');
        if (work.filename === 'refused') throw new AudioRefusal('silent', 'the recording is silent');
        return { sha256: 'ab'.repeat(32) };
      },
      (view) => seen.push(view),
    );
  });
  afterAll(async () => {
    await jobs.close();
  });

  const upload = async (filename: string) => {
    const path = join(dir, `upload-${randomUUID()}`);
    writeFileSync(path, 'bytes');
    const queued = await jobs.add(
      { kind: 'upload', path, sourceSha256: 'cd'.repeat(32), origin: 'upload', filename },
      {
        userId: randomUUID(),
        username: 'official',
        via: 'session',
      },
    );
    const done = await jobs.waitFor(queued.id, 20_000);
    return { path, done: done as AudioJobView, events: seen.filter((v) => v.id === queued.id) };
  };

  it('completes with the asset, reports progress, deletes the upload', async () => {
    const { path, done, events } = await upload('good');
    expect(done).toMatchObject({ state: 'completed', progress: 1, sha256: 'ab'.repeat(32), attempts: 1 });
    expect(events.map((e) => e.state)).toEqual(expect.arrayContaining(['active', 'completed']));
    expect(events.some((e) => e.stage === 'measuring' && e.progress === 0.5)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('retries a transient failure and then completes, keeping the upload between attempts', async () => {
    runs = 0;
    const { path, done } = await upload('flaky');
    expect(done).toMatchObject({ state: 'completed', attempts: 2 });
    expect(existsSync(path)).toBe(false);
  }, 30_000);

  it('ends "failed" with the last error once the attempts are spent, and deletes the upload', async () => {
    const { path, done, events } = await upload('broken');
    expect(done).toMatchObject({ state: 'failed', reason: 'failed', detail: 'ffmpeg was killed', attempts: 2 });
    expect(events.at(-1)?.state).toBe('failed');
    expect(existsSync(path)).toBe(false);
  }, 30_000);

  it('ends "refused" at once (no retry) with the reason, and deletes the upload', async () => {
    const before = runs;
    const { path, done } = await upload('refused');
    expect(done).toMatchObject({ state: 'refused', reason: 'silent', attempts: 1 });
    expect(done.detail).toMatch(/^the recording is silent; /);
    expect(runs - before).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('answers an unknown job as undefined', async () => {
    expect(await jobs.view('no-such-job')).toBeUndefined();
  });
});

describe('speech engines', () => {
  let server: Server;
  let url: string;
  const calls: { text: string; voice: string; language?: string }[] = [];
  const wav = wavBytes(speechLike(1, 22_050, 0.2), 22_050);

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (d) => {
        body += d;
      });
      request.on('end', () => {
        const input = JSON.parse(body) as { text: string; voice: string; language?: string };
        calls.push(input);
        if (input.text.includes('bận')) return response.writeHead(503).end('busy');
        if (input.text.includes('cấm')) return response.writeHead(400).end('text not allowed');
        response.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tts`;
  });
  afterAll(() => {
    server?.close();
  });

  it('HTTP: posts text, voice and language, answers the audio', async () => {
    const engine = new HttpSpeechEngine(url, parseVoices('vie = banmai, hmn=xyz'));
    expect(engine.voiceFor('vie')).toBe('banmai');
    expect(engine.voiceFor('tyz')).toBeUndefined();
    const audio = await engine.synthesise('Xin chào', 'banmai');
    expect(audio.equals(wav)).toBe(true);
    expect(calls.at(-1)).toEqual({ text: 'Xin chào', voice: 'banmai', language: 'vie' });
    expect(engine.id).toMatch(/^http:127\.0\.0\.1:\d+$/);
  });

  it('HTTP: a 5xx or no answer is transient (retried); a 4xx refuses the text', async () => {
    const engine = new HttpSpeechEngine(url, { vie: 'banmai' });
    await expect(engine.synthesise('máy bận', 'banmai')).rejects.toBeInstanceOf(TransientSpeechError);
    await expect(engine.synthesise('từ cấm', 'banmai')).rejects.toMatchObject({
      reason: 'corrupt',
      message: expect.stringMatching(/refused the text \(400: text not allowed\)/),
    });
    const away = new HttpSpeechEngine('http://127.0.0.1:1/tts', { vie: 'banmai' });
    await expect(away.synthesise('Xin chào', 'banmai')).rejects.toBeInstanceOf(TransientSpeechError);
  });

  it('espeak-ng: speaks Vietnamese as WAV; no voice for the ethnic languages', async () => {
    const engine = new EspeakNgEngine();
    expect(engine.voiceFor('vie')).toBe('vi');
    expect(engine.voiceFor('hmn')).toBeUndefined();
    const audio = await engine.synthesise('Thông báo của xã', 'vi');
    expect(audio.subarray(0, 4).toString()).toBe('RIFF');
    expect(audio.length).toBeGreaterThan(20_000);
    const missing = new EspeakNgEngine('no-such-espeak');
    await expect(missing.synthesise('x', 'vi')).rejects.toThrow(/not installed/);
  });
});
