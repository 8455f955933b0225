import OpusScript from 'opusscript';
import { afterEach, describe, expect, it } from 'vitest';
import { sine } from '../../src/audio/ogg-opus-writer.js';
import { LiveDecoder } from '../../src/live/live-decoder.js';
import { peakHz, rms } from '../audio/helpers.js';
import { opusFrames } from './live-fixtures.js';

const decoders: LiveDecoder[] = [];
const decoder = async (frameMs = 20) => {
  const d = new LiveDecoder(frameMs);
  decoders.push(d);
  await d.ready;
  return d;
};
afterEach(() => {
  for (const d of decoders.splice(0)) d.close();
});

describe('live decoder', () => {
  it('decodes 20 ms Opus frames to 960 samples of 48 kHz mono each, the tone intact', async () => {
    const frames = opusFrames(sine(440, 1));
    expect(frames).toHaveLength(50);
    const d = await decoder();
    const pcm = frames.map((f) => d.decode(f));
    for (const p of pcm) expect(p.length).toBe(960);
    // Past the codec's start-up, a steady 440 Hz at about half scale.
    const steady = Int16Array.from(pcm.slice(5, 45).flatMap((p) => [...p]));
    expect(peakHz(steady, 300, 600)).toBeGreaterThan(436);
    expect(peakHz(steady, 300, 600)).toBeLessThan(444);
    expect(rms(steady)).toBeGreaterThan(0.3 * 32767 * 0.7);
  });

  it('conceals a lost frame with libopus PLC: one frame long, sounding like what came before, fading out', async () => {
    const frames = opusFrames(sine(440, 0.5));
    const d = await decoder();
    for (const f of frames.slice(0, 20)) d.decode(f);
    // libopus conceals 120 ms per call here; each conceal() is one 20 ms frame of it.
    const concealed = [d.conceal(), d.conceal(), d.conceal(), d.conceal(), d.conceal(), d.conceal()];
    for (const c of concealed) expect(c.length).toBe(960);
    expect(peakHz(concealed[0] as Int16Array, 300, 600)).toBeGreaterThan(420);
    expect(peakHz(concealed[0] as Int16Array, 300, 600)).toBeLessThan(460);
    expect(rms(concealed[0] as Int16Array)).toBeGreaterThan(1000);
    expect(rms(concealed[5] as Int16Array)).toBeLessThan(rms(concealed[0] as Int16Array));
    // A frame that arrives ends the concealment: decoding goes on as before.
    expect(rms(d.decode(frames[23] as Uint8Array))).toBeGreaterThan(1000);
  });

  it('fits frames of another length to the session frame, and refuses an invalid packet', async () => {
    const encoder = new OpusScript(48000, 1, OpusScript.Application.VOIP);
    const pcm = Buffer.alloc(1920 * 2);
    const frame40 = encoder.encode(pcm, 1920);
    encoder.delete();
    expect((await decoder(20)).decode(frame40).length).toBe(960);
    expect((await decoder(60)).decode(frame40).length).toBe(2880);
    const bad = await decoder();
    expect(() => bad.decode(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(/Invalid packet/);
  });

  it('survives many decoders in one process, with losses, and frees each (opusscript corrupted its heap here)', async () => {
    const frames = opusFrames(sine(330, 1));
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let round = 0; round < 20; round++) {
      const ds = await Promise.all(Array.from({ length: 5 }, () => decoder()));
      for (let i = 0; i < 100; i++)
        for (const d of ds)
          expect((random() < 0.05 ? d.conceal() : d.decode(frames[i % 50] as Uint8Array)).length).toBe(960);
      for (const d of decoders.splice(0)) d.close();
    }
  });

  it('refuses unsupported frame lengths and use after close', () => {
    expect(() => new LiveDecoder(25)).toThrow(/unsupported/);
    const d = new LiveDecoder(20);
    d.close();
    expect(() => d.conceal()).toThrow(/closed/);
    d.close(); // twice is harmless
  });
});
