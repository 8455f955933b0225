import {
  chime as chimeSamples,
  DEFAULT_SIREN_LEVEL,
  type RiskLevel,
  SIREN_MS as SIREN_MS_BY_LEVEL,
  siren as sirenSamples,
  testTone as testToneSamples,
} from '@loa/protocols';

/**
 * The system's own sounds as 48 kHz mono 16-bit PCM, for a receiver that needs no asset for
 * them: the announcement chime and the warning siren (the preludes an item may ask for when
 * it carries no `preludeSha256`), and the test tone. They are made by `@loa/protocols`, the
 * one definition the controller's tone assets are made from too, and peak near −6 dBFS;
 * the renderer applies the item's gain. The chime and sirens are converted once and
 * shared: callers must not modify the arrays they get.
 */

export { CHIME_HZ, CHIME_MS, SIREN_HIGH_HZ, SIREN_LOW_HZ, TONE_SAMPLE_RATE } from '@loa/protocols';

/** The default siren's length (level 3), which the timing-only renderer assumes too (`PRELUDE_MS`). */
export const SIREN_MS = SIREN_MS_BY_LEVEL[DEFAULT_SIREN_LEVEL];

/** Full scale ±1 to 16-bit: round(x × 32767), clamped. */
function toPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++)
    out[i] = Math.max(-32767, Math.min(32767, Math.round((samples[i] as number) * 32767)));
  return out;
}

let chimePcm: Int16Array | undefined;
const sirenPcm = new Map<RiskLevel, Int16Array>();

/** The announcement chime: two falling bell tones ("ding-dong"), 1.5 s. */
export function chime(): Int16Array {
  chimePcm ??= toPcm16(chimeSamples());
  return chimePcm;
}

/** The warning siren of a risk level; by default level 3's, a sweep between 600 and 1200 Hz twice, 4 s. */
export function siren(level: RiskLevel = DEFAULT_SIREN_LEVEL): Int16Array {
  let pcm = sirenPcm.get(level);
  if (!pcm) {
    pcm = toPcm16(sirenSamples(level));
    sirenPcm.set(level, pcm);
  }
  return pcm;
}

/** The audible test tone (edge-agent test-tone): a steady sine, 1 kHz by default. */
export function testTone(ms = 3000, hz = 1000): Int16Array {
  return toPcm16(testToneSamples(ms, hz));
}
