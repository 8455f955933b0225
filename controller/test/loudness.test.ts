import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CEILING_DBTP,
  DEFAULT_TARGET_LUFS,
  gainToTarget,
  LoudnessMeter,
  Normaliser,
  TruePeakLimiter,
} from '../src/audio/loudness/index.js';

const RATE = 48000;

// --- Reference: ebur128-wasm (the ebur128 Rust crate, a port of libebur128) --------------------------------------
// Its v3 glue imports the .wasm as an ES module, which Node 20 cannot do, so the test instantiates the .wasm itself
// and passes arrays the way the glue does. The four imports only report Rust panics. Both calls return decibels.
interface Ebur128Wasm {
  memory: { buffer: ArrayBuffer };
  __wbindgen_malloc(bytes: number): number;
  ebur128_integrated_mono(rate: number, pointer: number, length: number): number;
  ebur128_true_peak_mono(rate: number, pointer: number, length: number): number;
}

// The project's lib settings (ES2023, no DOM) do not declare WebAssembly, which Node has: a minimal type suffices.
interface WasmRuntime {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmRuntime };
const wasmPath = createRequire(import.meta.url).resolve('ebur128-wasm/ebur128_wasm_bg.wasm');
const panic = (): never => {
  throw new Error('ebur128-wasm panicked');
};
const { instance } = await wasm.instantiate(readFileSync(wasmPath), {
  './ebur128_wasm_bg.js': {
    __wbg_new_693216e109162396: () => 0,
    __wbg_stack_0ddaca5d1abfb52f: () => {},
    __wbg_error_09919627ac0992f5: panic,
    __wbindgen_object_drop_ref: () => {},
  },
});
const reference = instance.exports as unknown as Ebur128Wasm;

function toWasm(samples: Float32Array): number {
  const pointer = reference.__wbindgen_malloc(samples.length * 4);
  new Float32Array(reference.memory.buffer).set(samples, pointer / 4); // the view is taken after malloc may grow it
  return pointer;
}
const referenceLufs = (samples: Float32Array, rate = RATE) =>
  reference.ebur128_integrated_mono(rate, toWasm(samples), samples.length);
const referenceTruePeakDb = (samples: Float32Array, rate = RATE) =>
  reference.ebur128_true_peak_mono(rate, toWasm(samples), samples.length);

// --- Signals -----------------------------------------------------------------------------------------------------

/** Deterministic uniform [0, 1) generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sine(hz: number, amplitude: number, seconds: number, rate = RATE, phase = 0): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate + phase);
  return out;
}

/** Pink-ish noise (Paul Kellet's economy filter over white noise), scaled to the given RMS level. */
function pinkNoise(seconds: number, rmsDbfs: number, next: () => number, rate = RATE): Float64Array {
  const out = new Float64Array(Math.round(seconds * rate));
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let power = 0;
  for (let i = 0; i < out.length; i++) {
    const white = next() * 2 - 1;
    b0 = 0.99765 * b0 + white * 0.099046;
    b1 = 0.963 * b1 + white * 0.2965164;
    b2 = 0.57 * b2 + white * 1.0526913;
    const pink = b0 + b1 + b2 + white * 0.1848;
    out[i] = pink;
    power += pink * pink;
  }
  const scale = 10 ** (rmsDbfs / 20) / Math.sqrt(power / out.length || 1);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

function concat(parts: ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Noise bursts at different levels with silences: the -36 and -45 dBFS parts fall under the relative gate. */
function noiseBursts(rate = RATE): Float32Array {
  const next = random(7);
  const silence = (seconds: number) => new Float64Array(Math.round(seconds * rate));
  return concat([
    pinkNoise(2, -20, next, rate),
    silence(1),
    pinkNoise(3, -36, next, rate),
    silence(1.5),
    pinkNoise(2.5, -18, next, rate),
    pinkNoise(2, -45, next, rate),
    silence(1),
    pinkNoise(1.2, -24, next, rate),
  ]);
}

/**
 * Speech-like: syllables (120-240 ms, 4.4 dB level spread, 20 ms ramps) of soft-clipped pink noise grouped in words
 * with silent pauses, plus 1 ms plosives about 20 dB above the syllables' RMS: peaks far above the loudness, as in
 * speech, but rare, so limiting them costs little loudness.
 */
function speechLike(seconds: number, seed = 11, rate = RATE): Float32Array {
  const next = random(seed);
  const carrier = pinkNoise(seconds, -20, next, rate);
  const clip = 2.5 * 0.1; // 2.5 sigma
  const out = new Float32Array(carrier.length);
  const ramp = Math.round(0.02 * rate);
  let i = 0;
  while (i < out.length) {
    const syllables = 2 + Math.floor(next() * 4);
    for (let s = 0; s < syllables && i < out.length; s++) {
      const length = Math.round((0.12 + next() * 0.12) * rate);
      const level = 0.6 + next() * 0.4;
      for (let k = 0; k < length && i + k < out.length; k++) {
        const shape = Math.min(1, k / ramp, (length - k) / ramp);
        out[i + k] = clip * Math.tanh((carrier[i + k] as number) / clip) * level * shape;
      }
      if (next() < 0.2) {
        const sign = next() < 0.5 ? -1 : 1;
        const burst = Math.round(0.001 * rate);
        const at = i + ramp;
        for (let k = 0; k < burst && at + k < out.length; k++) {
          out[at + k] = (out[at + k] as number) + sign * 0.6 * Math.sin((Math.PI * k) / burst);
        }
      }
      i += length;
    }
    i += Math.round((0.15 + next() * 0.35) * rate); // pause between words (digital silence)
  }
  return out;
}

/** Feeds a signal in random chunk sizes, including empty and one-sample chunks. */
function* randomChunks(samples: Float32Array, seed: number): Generator<Float32Array> {
  const next = random(seed);
  let offset = 0;
  while (offset < samples.length) {
    const pick = next();
    const size = pick < 0.1 ? 0 : pick < 0.3 ? 1 : pick < 0.5 ? Math.floor(next() * 16) : Math.floor(next() * 9000);
    yield samples.subarray(offset, offset + size);
    offset += size;
  }
}

function meter(samples: Float32Array, rate = RATE): LoudnessMeter {
  const m = new LoudnessMeter(rate);
  m.push(samples);
  return m;
}

function runLimiter(limiter: { process(c: Float32Array): Float32Array; flush(): Float32Array }, input: Float32Array) {
  const parts: Float32Array[] = [];
  for (let offset = 0; offset < input.length; offset += 4096) {
    parts.push(limiter.process(input.subarray(offset, offset + 4096)));
  }
  parts.push(limiter.flush());
  return concat(parts);
}

const db = (linear: number) => 20 * Math.log10(linear);

/** Index of the first differing sample, -1 if identical (toEqual is slow on long typed arrays). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

// --- Tests -------------------------------------------------------------------------------------------------------

describe('LoudnessMeter', () => {
  it('reads the BS.1770 reference levels of a 997 Hz sine', () => {
    expect(Math.abs(meter(sine(997, 1, 10)).integratedLufs() + 3.01)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(meter(sine(997, 0.1, 10)).integratedLufs() + 23.01)).toBeLessThanOrEqual(0.05);
  });

  it('weights the same at 48, 44.1, 22.05 and 16 kHz', () => {
    const at48k = meter(sine(1000, 0.5, 10)).integratedLufs();
    expect(Math.abs(meter(sine(1000, 0.5, 10, 44100), 44100).integratedLufs() - at48k)).toBeLessThan(0.1);
    for (const rate of [22050, 16000]) {
      expect(Math.abs(meter(sine(1000, 0.5, 10, rate), rate).integratedLufs() - at48k)).toBeLessThan(0.1);
    }
  });

  it('agrees with ebur128-wasm on gated noise bursts, speech-like noise and inter-sample peaks', () => {
    const signals = {
      noiseBursts: noiseBursts(),
      speechLike: speechLike(20),
      interSamplePeaks: sine(RATE / 4, 0.5, 5, RATE, Math.PI / 4),
    };
    for (const [name, samples] of Object.entries(signals)) {
      const m = meter(samples);
      const lufs = referenceLufs(samples);
      const truePeak = referenceTruePeakDb(samples);
      expect(Math.abs(m.integratedLufs() - lufs), `${name}: ${m.integratedLufs()} vs ${lufs} LUFS`).toBeLessThan(0.1);
      expect(Math.abs(m.truePeakDbtp() - truePeak), `${name}: ${m.truePeakDbtp()} vs ${truePeak} dBTP`).toBeLessThan(
        0.2,
      );
    }
    // The sine at fs/4, 45 degrees: every sample is at 0.354 but the waveform peaks at 0.5 between them.
    const interSample = meter(signals.interSamplePeaks);
    expect(interSample.samplePeakDbfs()).toBeCloseTo(db(0.5 * Math.SQRT1_2), 3);
    expect(Math.abs(interSample.truePeakDbtp() - db(0.5))).toBeLessThan(0.2);
  });

  it('gates: blocks 20 LU down (relative gate) and silence (absolute gate) do not count', () => {
    const loud = sine(997, 0.1, 10); // -23.01 LUFS
    const quiet = sine(997, 0.01, 10); // -43.01 LUFS
    const silence = new Float32Array(10 * RATE);
    // Ungated, the mean would be about 3 LU lower; the six blocks straddling the loud part cost 0.13 LU.
    for (const parts of [
      [loud, quiet, silence],
      [silence, quiet, loud, silence],
    ]) {
      expect(Math.abs(meter(concat(parts)).integratedLufs() + 23.01)).toBeLessThan(0.15);
    }
  });

  it('agrees with ebur128-wasm at 16, 22.05 and 44.1 kHz', () => {
    for (const rate of [16000, 22050, 44100]) {
      const samples = concat([noiseBursts(rate), speechLike(10, 3, rate)]);
      expect(Math.abs(meter(samples, rate).integratedLufs() - referenceLufs(samples, rate))).toBeLessThan(0.1);
    }
  });

  it('gives identical results whatever the chunking', () => {
    const samples = concat([noiseBursts(), speechLike(5)]);
    const whole = meter(samples);
    for (const seed of [1, 2]) {
      const chunked = new LoudnessMeter();
      for (const chunk of randomChunks(samples, seed)) chunked.push(chunk);
      expect(chunked.samples).toBe(samples.length);
      expect(chunked.integratedLufs()).toBe(whole.integratedLufs());
      expect(chunked.truePeakDbtp()).toBe(whole.truePeakDbtp());
      expect(chunked.samplePeakDbfs()).toBe(whole.samplePeakDbfs());
    }
    expect(whole.durationMs()).toBeCloseTo((samples.length / RATE) * 1000, 6);
  });

  it('reads silence, very quiet and too short signals as -Infinity', () => {
    const silence = meter(new Float32Array(5 * RATE));
    expect(silence.integratedLufs()).toBe(Number.NEGATIVE_INFINITY);
    expect(silence.truePeakDbtp()).toBe(Number.NEGATIVE_INFINITY);
    expect(silence.samplePeakDbfs()).toBe(Number.NEGATIVE_INFINITY);
    expect(meter(sine(997, 10 ** (-80 / 20), 5)).integratedLufs()).toBe(Number.NEGATIVE_INFINITY);
    expect(meter(sine(997, 0.5, 0.3)).integratedLufs()).toBe(Number.NEGATIVE_INFINITY);
    expect(new LoudnessMeter().integratedLufs()).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('gainToTarget', () => {
  it('is the linear gain to the target, and 1 for silence', () => {
    expect(gainToTarget(-26)).toBeCloseTo(10 ** (10 / 20), 12);
    expect(gainToTarget(-23, -23)).toBe(1);
    expect(gainToTarget(Number.NEGATIVE_INFINITY)).toBe(1);
    expect(DEFAULT_TARGET_LUFS).toBe(-16);
  });
});

describe('TruePeakLimiter and Normaliser', () => {
  it('normalises a high-crest speech-like signal to -16 LUFS with true peak <= -1 dBTP', () => {
    for (const rate of [RATE, 44100, 16000]) {
      const input = speechLike(30, 5, rate);
      const before = meter(input, rate);
      const gain = gainToTarget(before.integratedLufs());
      // Without the limiter the peaks would reach about +6 dBTP.
      expect(before.truePeakDbtp() + db(gain)).toBeGreaterThan(4);

      const normaliser = new Normaliser({ gain, sampleRate: rate });
      const output = runLimiter(normaliser, input);
      expect(output.length).toBe(input.length);
      expect(output.every(Number.isFinite)).toBe(true);
      const after = meter(output, rate);
      expect(after.truePeakDbtp()).toBeLessThanOrEqual(DEFAULT_CEILING_DBTP);
      expect(referenceTruePeakDb(output, rate)).toBeLessThanOrEqual(DEFAULT_CEILING_DBTP);
      expect(Math.abs(after.integratedLufs() - DEFAULT_TARGET_LUFS)).toBeLessThan(1);
      expect(Math.abs(referenceLufs(output, rate) - DEFAULT_TARGET_LUFS)).toBeLessThan(1);

      // The output stream is aligned with the input (the latency is in when samples come out, not in the stream):
      // cross-correlation peaks at lag 0.
      const latency = normaliser.latencySamples;
      expect(latency).toBe(Math.round(0.005 * rate));
      let bestLag = Number.NaN;
      let best = Number.NEGATIVE_INFINITY;
      for (let lag = -2 * latency; lag <= 2 * latency; lag++) {
        let sum = 0;
        for (let i = 10 * rate; i < 12 * rate; i += 3) {
          sum += (input[i] as number) * (output[i + lag] as number);
        }
        if (sum > best) {
          best = sum;
          bestLag = lag;
        }
      }
      expect(bestLag).toBe(0);
    }
  });

  it('returns each sample latencySamples samples later (an impulse fed one sample at a time)', () => {
    const limiter = new TruePeakLimiter({ sampleRate: 44100, lookaheadMs: 3 });
    expect(limiter.latencySamples).toBe(132);
    const lengths: number[] = [];
    let impulseOut = Number.NaN;
    for (let call = 0; call < 400; call++) {
      const out = limiter.process(Float32Array.of(call === 0 ? 0.5 : 0));
      lengths.push(out.length);
      if (out.length > 0 && Number.isNaN(impulseOut)) impulseOut = out[0] as number;
    }
    expect(lengths.indexOf(1)).toBe(limiter.latencySamples);
    expect(lengths.slice(limiter.latencySamples).every((n) => n === 1)).toBe(true);
    expect(impulseOut).toBe(0.5);
    expect(limiter.flush().length).toBe(limiter.latencySamples);
  });

  it('passes a gentle signal through unchanged', () => {
    const next = random(3);
    const input = concat([sine(440, 0.3, 2), pinkNoise(2, -20, next)]);
    const limiter = new TruePeakLimiter({});
    const output = runLimiter(limiter, input);
    expect(limiter.latencySamples).toBe(240);
    expect(output.length).toBe(input.length);
    let worst = 0;
    for (let i = 0; i < output.length; i++)
      worst = Math.max(worst, Math.abs((output[i] as number) - (input[i] as number)));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('moves the gain smoothly (no clicks) and recovers after a loud passage', () => {
    const input = concat([sine(1000, 0.2, 1), sine(1000, 1, 0.5), sine(1000, 0.2, 1)]);
    const limiter = new TruePeakLimiter({ ceilingDbtp: -3 });
    const output = runLimiter(limiter, input);
    let previousGain = 1;
    let largestStep = 0;
    for (let i = 0; i < output.length; i++) {
      const x = input[i] as number;
      if (Math.abs(x) < 0.15) continue; // the gain is well defined near the waveform's crests only
      const gain = (output[i] as number) / x;
      largestStep = Math.max(largestStep, Math.abs(gain - previousGain));
      previousGain = gain;
    }
    expect(largestStep).toBeLessThan(0.02);
    expect(meter(output).truePeakDbtp()).toBeLessThanOrEqual(-3);
    // 80 ms release: 0.5 s after the loud passage the quiet sine is back at full gain.
    const tail = output.subarray(output.length - 0.3 * RATE);
    expect(Math.max(...tail.map(Math.abs))).toBeCloseTo(0.2, 3);
  });

  it('gives identical output whatever the chunking', () => {
    const input = speechLike(5, 9);
    const whole = runLimiter(new Normaliser({ gain: 8 }), input);
    const normaliser = new Normaliser({ gain: 8 });
    const parts: Float32Array[] = [];
    for (const chunk of randomChunks(input, 4)) parts.push(normaliser.process(chunk));
    parts.push(normaliser.flush());
    expect(firstDifference(concat(parts), whole)).toBe(-1);
    // flush() resets: the same object processes a second stream identically.
    expect(firstDifference(runLimiter(normaliser, input), whole)).toBe(-1);
  });

  it('meters and limits 10 minutes of 48 kHz audio quickly (logged, not asserted)', () => {
    const block = speechLike(10, 21);
    const m = new LoudnessMeter();
    const normaliser = new Normaliser({ gain: 4 });
    let produced = 0;
    const started = performance.now();
    for (let round = 0; round < 60; round++) {
      for (let offset = 0; offset < block.length; offset += 4800) {
        const chunk = block.subarray(offset, offset + 4800);
        m.push(chunk);
        produced += normaliser.process(chunk).length;
      }
    }
    produced += normaliser.flush().length;
    const elapsed = performance.now() - started;
    console.info(`metering + limiting 10 min of 48 kHz mono: ${elapsed.toFixed(0)} ms`);
    expect(produced).toBe(60 * block.length);
    expect(m.durationMs()).toBeCloseTo(600_000, 6);
  });
});
