import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlayableItem } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { Amplifier, type AmplifierOptions } from '../../src/audio/amplifier.js';
import { AudioRenderer, type AudioRendererOptions, LEAD_MS } from '../../src/audio/audio-renderer.js';
import { gainOf } from '../../src/audio/gain.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { WavFileSink } from '../../src/audio/wav-file-sink.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { AudioOutput, AudioSink, Gpio, PcmFormat } from '../../src/hardware/seams.js';
import type { RenderOutcome } from '../../src/playback/renderer.js';
import { oggOpusFile, sine } from '../support/ogg-opus-fixture.js';
import { advanceBy, drive, goertzel, parseWav, playable, RATE, rms, sha256, until } from './helpers.js';

// Real Ogg Opus assets: "Vietnamese" is a 1 s 440 Hz tone, "Hmong" a 0.5 s 880 Hz tone, so
// what was played, in which order, is told apart by pitch.
const vie = oggOpusFile(sine(440, 1));
const hmn = oggOpusFile(sine(880, 0.5));
const blip = oggOpusFile(sine(880, 0.2)); // shorter than the renderer writes ahead
const assets = new Map([
  [sha256(vie), vie],
  [sha256(hmn), hmn],
  [sha256(blip), blip],
]);
const SEGMENTS: PlayableItem['segments'] = [
  { language: 'vie', sha256: sha256(vie), durationMs: 1000 },
  { language: 'hmn', sha256: sha256(hmn), durationMs: 500 },
];

const PITCHES: Array<[string, number]> = [
  ['vie', 440],
  ['hmn', 880],
  ['chime', 784],
  ['chime', 659],
];

/** What a block sounds like: the candidate pitch with the most power. */
function label(block: Int16Array): string {
  let best = 'silence';
  let power = 1e3;
  for (const [name, hz] of PITCHES) {
    const p = goertzel(block, hz);
    if (p > power) {
      best = name;
      power = p;
    }
  }
  return best;
}

interface Run {
  label: string;
  from: number;
  to: number;
  samples: Int16Array[];
}

/**
 * A timing-only sink that also keeps what it was given: each write is placed on the
 * clock where it would be heard (as the null sink does), so the test sees what the
 * speakers would play, when.
 */
class RecordingSink implements AudioSink {
  readonly events: string[];
  readonly runs: Run[] = [];
  maxLeadMs = 0;
  failOpen: Error | undefined;
  failWriteAfter = Number.POSITIVE_INFINITY;
  /** Drain at once, as a file sink does, instead of when the sound has played. */
  instantDrain = false;

  constructor(
    private readonly clock: ManualClock,
    events: string[],
  ) {
    this.events = events;
  }

  async open(format: PcmFormat): Promise<AudioOutput> {
    const { clock, events, runs } = this;
    const at = () => clock.monotonic();
    if (this.failOpen) throw this.failOpen;
    events.push(`@${at()} open ${format.sampleRate}/${format.channels}`);
    let endsAt = at();
    let writes = 0;
    let drainTimer: object | undefined;
    let drainResolve: (() => void) | undefined;
    return {
      write: async (pcm) => {
        if (++writes > this.failWriteAfter) throw new Error('snd_pcm_writei: Input/output error');
        const startsAt = Math.max(endsAt, at());
        endsAt = startsAt + (pcm.length / RATE) * 1000;
        this.maxLeadMs = Math.max(this.maxLeadMs, endsAt - at());
        const name = pcm.length < 480 ? (runs.at(-1)?.label ?? 'silence') : label(pcm);
        const last = runs.at(-1);
        if (last && last.label === name && Math.abs(last.to - startsAt) < 1e-6) {
          last.to = endsAt;
          last.samples.push(pcm);
        } else runs.push({ label: name, from: startsAt, to: endsAt, samples: [pcm] });
      },
      drain: () =>
        new Promise<void>((resolve) => {
          if (this.instantDrain) return resolve();
          drainResolve = resolve;
          drainTimer = clock.setTimeout(resolve, Math.max(0, endsAt - at()));
        }),
      abort: async () => {
        events.push(`@${at()} abort`);
        if (drainTimer) clock.clearTimeout(drainTimer);
        drainResolve?.();
      },
      close: async () => {
        events.push(`@${at()} close`);
      },
    };
  }
}

function rig(options: { amplifier?: Partial<AmplifierOptions>; renderer?: Partial<AudioRendererOptions> } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-23T01:00:00Z'));
  const events: string[] = [];
  const virtual = new VirtualGpio();
  const relay: Gpio = {
    write: async (line, value) => {
      await virtual.write(line, value);
      events.push(`@${clock.monotonic()} relay ${value ? 'on' : 'off'}`);
    },
    read: (line) => virtual.read(line),
  };
  const sink = new RecordingSink(clock, events);
  const amplifier = new Amplifier({
    gpio: relay,
    line: '17',
    clock,
    warmUpMs: 1500,
    holdMs: 5000,
    ...options.amplifier,
  });
  const faults: string[] = [];
  const renderer = new AudioRenderer({
    sink,
    amplifier,
    clock,
    readAsset: async (sha) => assets.get(sha),
    onFault: (code) => faults.push(code),
    ...options.renderer,
  });
  const progress: string[] = [];
  const play = (item: PlayableItem, signal = new AbortController().signal) =>
    renderer.render(item, signal, (p) => progress.push(`@${clock.monotonic()} ${p.repetition} ${p.language}`));
  return { clock, events, virtual, sink, amplifier, renderer, faults, progress, play };
}

/** An event without its time ("@1500 relay on" → "relay on"), and its time. */
const strip = (event: string) => event.replace(/^@[\d.]+ /, '');
const timeOf = (event: string) => Number(event.slice(1, event.indexOf(' ')));

const near = (actual: number | undefined, expected: number, tolerance = 15) =>
  expect(Math.abs((actual ?? Number.NaN) - expected), `${actual} ≈ ${expected}`).toBeLessThanOrEqual(tolerance);

describe('audio renderer', () => {
  it('relay on, warm-up, chime, segments in order × repeat, hold, relay off', async () => {
    const { clock, events, sink, progress, play } = rig();
    const outcome = await drive(clock, play(playable({ prelude: 'chime', repeat: 2, segments: SEGMENTS })));
    const end = clock.monotonic();
    expect(outcome.result).toBe('finished');
    near(outcome.playedMs, 3000, 30); // the test encoder drops a few ms at each end

    // Heard, in order, back to back: 1.5 s chime, then vie 1 s, hmn 0.5 s, twice.
    expect(sink.runs.map((r) => r.label)).toEqual(['chime', 'vie', 'hmn', 'vie', 'hmn']);
    const [chime, vie1, hmn1, vie2, hmn2] = sink.runs as [Run, Run, Run, Run, Run];
    expect(chime.from).toBe(1500); // after the warm-up, not before
    near(chime.to, 3000, 1);
    near(vie1.to - vie1.from, 1000, 10);
    near(hmn1.to - hmn1.from, 500, 10);
    for (let i = 1; i < sink.runs.length; i++) near(sink.runs[i]?.from, sink.runs[i - 1]?.to as number, 1);

    // Progress when each segment starts to be heard, not when it is written ahead.
    expect(progress.map((p) => strip(p))).toEqual(['1 vie', '1 hmn', '2 vie', '2 hmn']);
    const heardAt = progress.map(timeOf);
    for (const [i, run] of [vie1, hmn1, vie2, hmn2].entries()) near(heardAt[i], run.from);

    // Never far ahead of the speakers (abort and progress stay prompt).
    expect(sink.maxLeadMs).toBeLessThanOrEqual(LEAD_MS + 100);
    near(end, hmn2.to, 20);

    await advanceBy(clock, 5000);
    const relay = events.filter((e) => e.includes('relay'));
    expect(relay[0]).toBe('@0 relay on');
    expect(relay).toHaveLength(2);
    near(timeOf(relay[1] ?? ''), end + 5000, 10);
    expect(events.filter((e) => !e.includes('relay')).map((e) => strip(e))).toEqual(['open 48000/1', 'close']);
  });

  it('plays at the item volume times the master volume, dB-linear', async () => {
    const levels: Record<string, number> = {};
    for (const [name, volume, master] of [
      ['full', 100, 100],
      ['item 50', 50, 100],
      ['item 50, master 80', 50, 80],
    ] as const) {
      const { clock, sink, play } = rig({ renderer: { masterVolume: () => master } });
      await drive(clock, play(playable({ volume, segments: SEGMENTS.slice(0, 1) })));
      const all = Int16Array.from(sink.runs.flatMap((r) => r.samples.flatMap((s) => [...s])));
      levels[name] = rms(all.subarray(4800, 43_200));
    }
    const db = (a: number, b: number) => 20 * Math.log10(a / b);
    expect(db(levels['item 50'] as number, levels.full as number)).toBeCloseTo(20 * Math.log10(gainOf(50)), 1);
    expect(db(levels['item 50, master 80'] as number, levels.full as number)).toBeCloseTo(-28, 1);
  });

  it("plays the item's own prelude asset instead of the synthesised one, and the siren otherwise", async () => {
    const own = rig();
    await drive(
      own.clock,
      own.play(playable({ prelude: 'siren', preludeSha256: sha256(hmn), segments: SEGMENTS.slice(0, 1) })),
    );
    expect(own.sink.runs.map((r) => r.label)).toEqual(['hmn', 'vie']);
    expect(own.progress.map((p) => strip(p))).toEqual(['1 vie']);

    const synthesised = rig();
    const outcome = await drive(
      synthesised.clock,
      synthesised.play(playable({ prelude: 'siren', segments: SEGMENTS.slice(1) })),
    );
    const heard = synthesised.sink.runs;
    near(heard.at(-1)?.from, 1500 + 4000, 1); // 4 s of siren before the segment
    expect(heard.at(-1)?.label).toBe('hmn');
    near(outcome.playedMs, 500, 15); // the prelude is not counted

    const none = rig();
    await drive(
      none.clock,
      none.play(playable({ prelude: 'none', preludeSha256: sha256(hmn), segments: SEGMENTS.slice(0, 1) })),
    );
    expect(none.sink.runs.map((r) => r.label)).toEqual(['vie']);
  });

  it("sounds the built-in tone when the prelude's own file is missing or damaged, never failing the item", async () => {
    for (const prelude of ['c'.repeat(64), 'b'.repeat(64)]) {
      const { clock, sink, play } = rig({
        renderer: {
          readAsset: async (sha) => (sha === 'b'.repeat(64) ? Buffer.from('ID3\x03 an mp3') : assets.get(sha)),
        },
      });
      const outcome = await drive(
        clock,
        play(playable({ prelude: 'siren', preludeSha256: prelude, segments: SEGMENTS.slice(1) })),
      );
      expect(outcome.result).toBe('finished');
      near(sink.runs.at(-1)?.from, 1500 + 4000, 1); // the built-in 4 s siren, then the segment
      expect(sink.runs.at(-1)?.label).toBe('hmn');
    }
  });

  it('writes a real WAV file of what it plays', async () => {
    const clock = new ManualClock(0);
    const sink = new WavFileSink(mkdtempSync(join(tmpdir(), 'loa-render-wav-')));
    const renderer = new AudioRenderer({
      sink,
      amplifier: new Amplifier({ gpio: new VirtualGpio(), line: '17', clock, warmUpMs: 200, holdMs: 0 }),
      clock,
      readAsset: async (sha) => assets.get(sha),
    });
    const item = playable({
      prelude: 'chime',
      segments: [...SEGMENTS, { language: 'ium', sha256: sha256(blip), durationMs: 200 }],
    });
    const outcome = await drive(clock, renderer.render(item, new AbortController().signal));
    expect(outcome.result).toBe('finished');
    const wav = parseWav(readFileSync(sink.files[0] as string));
    expect(wav).toMatchObject({ channels: 1, sampleRate: RATE, bits: 16 });
    near((wav.samples.length / RATE) * 1000, 1500 + 1000 + 500 + 200, 30);
    const at = (s: number) => wav.samples.subarray(s * RATE, s * RATE + 4800);
    expect(label(at(0.2))).toBe('chime');
    expect(label(at(2))).toBe('vie');
    expect(label(at(2.7))).toBe('hmn');
    expect(label(at(3.05))).toBe('hmn'); // the blip is 880 Hz too
  });

  it('reports every segment, the last one too, when the sink drains without waiting', async () => {
    const { clock, sink, progress, play } = rig();
    sink.instantDrain = true;
    const segments = [...SEGMENTS, { language: 'ium' as const, sha256: sha256(blip), durationMs: 200 }];
    const outcome = await drive(clock, play(playable({ segments })));
    expect(outcome.result).toBe('finished');
    expect(progress.map(strip)).toEqual(['1 vie', '1 hmn', '1 ium']);
  });

  it('stops at once when aborted mid-segment, reporting what was heard', async () => {
    const { clock, events, sink, progress, play } = rig();
    const abort = new AbortController();
    const playing = play(playable({ repeat: 3, segments: SEGMENTS }), abort.signal);
    let outcome: RenderOutcome | undefined;
    void playing.then((o) => {
      outcome = o;
    });
    await until(() => events.some((e) => e.includes('relay on')));
    await advanceBy(clock, 1500 + 1000 + 250); // 250 ms into the first hmn
    const abortedAt = clock.monotonic();
    abort.abort();
    await until(() => outcome !== undefined); // without the clock moving
    expect(clock.monotonic()).toBe(abortedAt);
    expect(events).toContain(`@${abortedAt} abort`);
    expect(outcome?.result).toBe('aborted');
    near(outcome?.playedMs, 1250, 20);
    expect(progress.map((p) => strip(p))).toEqual(['1 vie', '1 hmn']);
    // Nothing written after the abort.
    const written = sink.runs.at(-1)?.to as number;
    await advanceBy(clock, 6000);
    expect(sink.runs.at(-1)?.to).toBe(written);
    expect(progress).toHaveLength(2);
    expect(events.filter((e) => e.includes('relay'))).toEqual(['@0 relay on', `@${abortedAt + 5000} relay off`]);
  });

  it('gives up the warm-up at once when aborted during it, then lets the amplifier go', async () => {
    const { clock, events, play } = rig();
    const abort = new AbortController();
    let outcome: RenderOutcome | undefined;
    void play(playable({ segments: SEGMENTS }), abort.signal).then((o) => {
      outcome = o;
    });
    await until(() => events.length > 0);
    await advanceBy(clock, 700);
    abort.abort();
    await until(() => outcome !== undefined);
    expect(outcome).toEqual({ result: 'aborted', playedMs: 0 });
    expect(clock.monotonic()).toBe(700);
    await advanceBy(clock, 800 + 5000);
    expect(events).toEqual(['@0 relay on', '@6500 relay off']);

    const already = new AbortController();
    already.abort();
    expect(await play(playable({ segments: SEGMENTS }), already.signal)).toEqual({ result: 'aborted', playedMs: 0 });
  });

  it('fails an item whose asset is missing or not Ogg Opus, before switching anything on', async () => {
    const { clock, events, faults, play } = rig({
      renderer: {
        readAsset: async (sha) => (sha === 'b'.repeat(64) ? Buffer.from('ID3\x03 an mp3') : assets.get(sha)),
      },
    });
    const missing = await play(
      playable({ segments: [...SEGMENTS, { language: 'tyz', sha256: 'a'.repeat(64), durationMs: 900 }] }),
    );
    expect(missing).toEqual({ result: 'failed', playedMs: 0, reason: `asset_missing ${'a'.repeat(12)}` });
    const undecodable = await play(
      playable({ segments: [{ language: 'vie', sha256: 'b'.repeat(64), durationMs: 1 }] }),
    );
    expect(undecodable).toMatchObject({ result: 'failed', reason: expect.stringMatching(/^asset_undecodable/) });
    await advanceBy(clock, 100);
    expect(events).toEqual([]);
    expect(faults).toEqual([]);
  });

  it('fails with audio_device_error when the sink cannot open or fails while playing', async () => {
    const openFails = rig();
    openFails.sink.failOpen = new Error('aplay: audio open error: No such file or directory');
    const outcome = await drive(openFails.clock, openFails.play(playable({ segments: SEGMENTS })));
    expect(outcome).toMatchObject({
      result: 'failed',
      playedMs: 0,
      fault: 'audio_device_error',
      reason: expect.stringMatching(/^audio_device_error: aplay: audio open error/),
    });
    expect(openFails.faults).toEqual(['audio_device_error']);

    const writeFails = rig();
    writeFails.sink.failWriteAfter = 7; // 0.7 s in
    const failed = await drive(writeFails.clock, writeFails.play(playable({ segments: SEGMENTS })));
    expect(failed).toMatchObject({ result: 'failed', fault: 'audio_device_error' });
    expect(failed.playedMs).toBeGreaterThanOrEqual(300);
    expect(failed.playedMs).toBeLessThanOrEqual(700);
    expect(writeFails.events.map((e) => strip(e))).toEqual(['relay on', 'open 48000/1', 'abort', 'close']);
    await advanceBy(writeFails.clock, 5000);
    expect(writeFails.virtual.lines.get('17')).toBe(false); // released: off after the hold
  });

  it('fails to sound when the line check finds the speaker line open, or the relay is dead', async () => {
    const open = rig({ amplifier: { probe: { check: async () => ({ ok: false, fault: 'speaker_line_open' }) } } });
    const outcome = await drive(open.clock, open.play(playable({ segments: SEGMENTS })));
    expect(outcome).toEqual({
      result: 'failed',
      playedMs: 0,
      reason: 'failed_to_sound: line check found speaker_line_open',
      fault: 'speaker_line_open',
    });
    expect(open.faults).toEqual(['speaker_line_open']);
    expect(open.sink.runs).toEqual([]);
    await advanceBy(open.clock, 5000);
    expect(open.events.map((e) => strip(e))).toEqual(['relay on', 'relay off']);

    const dead = rig();
    dead.virtual.failure = new Error('gpioset: Device or resource busy');
    const noRelay = await drive(dead.clock, dead.play(playable({ segments: SEGMENTS })));
    expect(noRelay).toMatchObject({
      result: 'failed',
      fault: 'amplifier_fault',
      reason: expect.stringMatching(/^failed_to_sound/),
    });
    expect(dead.faults).toEqual(['amplifier_fault']);
  });

  it('plays back-to-back items without switching the relay or warming up again', async () => {
    const { clock, events, sink, play } = rig();
    await drive(clock, play(playable({ segments: SEGMENTS.slice(1) })));
    await advanceBy(clock, 1000); // a second into the hold
    const secondStarts = clock.monotonic();
    await drive(clock, play(playable({ segments: SEGMENTS.slice(0, 1) })));
    expect(sink.runs.map((r) => r.label)).toEqual(['hmn', 'vie']);
    near(sink.runs[1]?.from, secondStarts, 10);
    await advanceBy(clock, 5000);
    expect(events.filter((e) => e.includes('relay')).length).toBe(2);
  });
});
