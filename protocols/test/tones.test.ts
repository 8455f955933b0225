import {
  CHIME_HZ,
  CHIME_MS,
  chime,
  DEFAULT_SIREN_LEVEL,
  RISK_LEVELS,
  type RiskLevel,
  SIREN_HIGH_HZ,
  SIREN_LOW_HZ,
  SIREN_MS,
  siren,
  TONE_NAMES,
  TONE_PEAK,
  TONE_SAMPLE_RATE,
  type ToneName,
  testTone,
  toneName,
  toneSamples,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';

const RATE = TONE_SAMPLE_RATE;
const WINDOW = 0.05 * RATE; // 50 ms

const peakDbfs = (x: Float32Array) => 20 * Math.log10(x.reduce((m, s) => Math.max(m, Math.abs(s)), 0));

/** The pitch of each 50 ms window, from its zero crossings (0 for silence). */
function pitchSeries(x: Float32Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + WINDOW <= x.length; at += WINDOW) {
    let crossings = 0;
    for (let i = at + 1; i < at + WINDOW; i++) if ((x[i - 1] as number) < 0 !== (x[i] as number) < 0) crossings++;
    out.push(crossings / 2 / 0.05);
  }
  return out;
}

/** How often the pitch turns (rising to falling or back) per second; steps under 20 Hz are noise. */
function turnsPerSecond(x: Float32Array): number {
  const pitches = pitchSeries(x);
  let direction = 0;
  let turns = 0;
  for (let i = 1; i < pitches.length; i++) {
    const step = (pitches[i] as number) - (pitches[i - 1] as number);
    if (Math.abs(step) < 20) continue;
    if (direction !== 0 && Math.sign(step) !== direction) turns++;
    direction = Math.sign(step);
  }
  return turns / (x.length / RATE);
}

/** Power of one frequency in a block (Goertzel), normalised to the block length. */
function goertzel(x: Float32Array, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const sample of x) {
    const s0 = sample + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
}

/** The same samples, bit for bit (quicker than toEqual on arrays this long). */
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const msOf = (name: ToneName) => (name === 'chime' ? CHIME_MS : SIREN_MS[Number(name.slice(6)) as RiskLevel]);

describe('tones', () => {
  it('names the chime and one siren per risk level', () => {
    expect(TONE_NAMES).toEqual(['chime', 'siren-1', 'siren-2', 'siren-3', 'siren-4', 'siren-5']);
    expect(toneName('chime')).toBe('chime');
    expect(toneName('siren')).toBe('siren-3');
    for (const level of RISK_LEVELS) expect(toneName('siren', level)).toBe(`siren-${level}`);
    expect(same(toneSamples('chime'), chime())).toBe(true);
    for (const level of RISK_LEVELS) expect(same(toneSamples(`siren-${level}`), siren(level))).toBe(true);
    expect(() => toneSamples('siren-6' as ToneName)).toThrow(RangeError);
    expect(() => siren(0 as RiskLevel)).toThrow(RangeError);
  });

  it('each lasts its documented length, a few seconds for a siren; the default siren is 4 s', () => {
    expect(TONE_SAMPLE_RATE).toBe(48_000);
    expect(chime().length).toBe((CHIME_MS * RATE) / 1000);
    expect(CHIME_MS).toBe(1500);
    for (const level of RISK_LEVELS) {
      expect(siren(level).length).toBe((SIREN_MS[level] * RATE) / 1000);
      expect(SIREN_MS[level]).toBeGreaterThanOrEqual(4000);
      expect(SIREN_MS[level]).toBeLessThanOrEqual(8000);
    }
    expect(DEFAULT_SIREN_LEVEL).toBe(3);
    expect(SIREN_MS[DEFAULT_SIREN_LEVEL]).toBe(4000);
    expect(same(siren(), siren(3))).toBe(true);
    expect(testTone().length).toBe(3 * RATE);
    expect(testTone(2500).length).toBe(2.5 * RATE);
    expect(testTone(0).length).toBe(0);
  });

  it('every tone peaks near −6 dBFS, is finite, and starts and ends quietly (5 ms ramps)', () => {
    const tones = [...TONE_NAMES.map((name) => [name, toneSamples(name)] as const), ['test', testTone()] as const];
    for (const [name, x] of tones) {
      expect(x.every(Number.isFinite), name).toBe(true);
      expect(peakDbfs(x), name).toBeGreaterThan(-7);
      expect(peakDbfs(x), name).toBeLessThan(-5);
      expect(Math.abs(x[0] as number), name).toBeLessThan(1e-3);
      expect(Math.abs(x[x.length - 1] as number), name).toBeLessThan(1e-3);
      // The first and last millisecond are still on the ramp.
      const edge = [...x.subarray(0, 48), ...x.subarray(x.length - 48)];
      expect(Math.max(...edge.map(Math.abs)), name).toBeLessThan(0.25 * TONE_PEAK);
    }
    for (const name of TONE_NAMES) expect(toneSamples(name).length, name).toBe((msOf(name) * RATE) / 1000);
  });

  it('the chime is the ding (784 Hz) then the dong (659 Hz)', () => {
    const x = chime();
    const [high, low] = CHIME_HZ;
    expect([high, low]).toEqual([784, 659]);
    const ding = x.subarray(0.1 * RATE, 0.5 * RATE);
    const dong = x.subarray(0.7 * RATE, 1.1 * RATE);
    expect(goertzel(ding, high)).toBeGreaterThan(20 * goertzel(ding, low));
    expect(goertzel(dong, low)).toBeGreaterThan(5 * goertzel(dong, high));
    expect(goertzel(ding, high)).toBeGreaterThan(100 * goertzel(ding, 1000));
    expect(goertzel(dong, low)).toBeGreaterThan(100 * goertzel(dong, 1000));
  });

  it('the default siren (level 3) sweeps 600 → 1200 → 600 Hz every 2 s, twice', () => {
    const pitches = pitchSeries(siren(3));
    const at = (s: number) => pitches[Math.min(pitches.length - 1, Math.round(s * 20))] as number;
    for (const s of [0.05, 2, 3.95]) expect(at(s)).toBeLessThan(SIREN_LOW_HZ + 80);
    for (const s of [1, 3]) expect(at(s)).toBeGreaterThan(SIREN_HIGH_HZ - 80);
  });

  it('the sirens of different levels sound different', () => {
    const series = RISK_LEVELS.map((level) => pitchSeries(siren(level)));
    for (let a = 0; a < series.length; a++)
      for (let b = a + 1; b < series.length; b++) {
        const [p, q] = [series[a] as number[], series[b] as number[]];
        const n = Math.min(p.length, q.length);
        let difference = 0;
        for (let i = 0; i < n; i++) difference += Math.abs((p[i] as number) - (q[i] as number));
        expect(difference / n, `levels ${a + 1} and ${b + 1}`).toBeGreaterThan(50);
      }
  });

  it('the higher the level, the faster the siren changes pitch', () => {
    const rates = RISK_LEVELS.map((level) => turnsPerSecond(siren(level)));
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThan(rates[i - 1] as number);
    expect(rates[4]).toBeGreaterThan(10 * (rates[0] as number));
  });

  it('the test tone is a steady sine of the asked pitch', () => {
    const x = testTone(1000).subarray(2400, 45_600);
    expect(goertzel(x, 1000)).toBeGreaterThan(1000 * goertzel(x, 900));
    const low = testTone(300, 440);
    expect(low.length).toBe(0.3 * RATE);
    expect(goertzel(low, 440)).toBeGreaterThan(100 * goertzel(low, 1000));
  });
});
