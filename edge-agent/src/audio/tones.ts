import { SAMPLE_RATE } from './opus-decoder.js';

function envelope(i: number, n: number, fade = 0.01 * SAMPLE_RATE): number {
  return Math.min(1, i / fade, (n - i) / fade);
}

/** The announcement chime: two falling tones (ding-dong), 1.5 s, synthesised so no asset is needed. */
export function chime(): Int16Array {
  const n = Math.round(1.5 * SAMPLE_RATE);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    const f = t < 0.7 ? 784 : 622; // G5 then D#5
    const local = t < 0.7 ? t : t - 0.7;
    out[i] = Math.round(12000 * Math.exp(-3 * local) * Math.sin(2 * Math.PI * f * t) * envelope(i, n));
  }
  return out;
}

/** The warning siren: a rising and falling sweep (600–1200 Hz), 4 s. */
export function siren(): Int16Array {
  const n = 4 * SAMPLE_RATE;
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    const f = 900 + 300 * Math.sin(2 * Math.PI * 0.5 * t);
    phase += (2 * Math.PI * f) / SAMPLE_RATE;
    out[i] = Math.round(16000 * Math.sin(phase) * envelope(i, n));
  }
  return out;
}

/** The audible test tone: 1 kHz. */
export function testTone(ms = 3000): Int16Array {
  const n = Math.round((ms / 1000) * SAMPLE_RATE);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / SAMPLE_RATE) * envelope(i, n));
  return out;
}
