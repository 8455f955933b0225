import { OggOpusMuxer } from '@loa/protocols';
import OpusScript from 'opusscript';

// Real Ogg Opus files from PCM, for the simulator's test audio and for tests: libopus
// (opusscript, its wasm build) encodes, the shared muxer of @loa/protocols frames. Receivers
// only ever decode; the controller encodes what it airs with native libopus.

export { oggCrc32 } from '@loa/protocols';

const FRAME = 960;
const PRE_SKIP = 312;

/** An Ogg Opus file (48 kHz mono) of the given samples (-1..1). */
export function oggOpusFile(samples: Float32Array): Buffer {
  const encoder = new OpusScript(48000, 1, OpusScript.Application.AUDIO);
  // One packet per page, as the test files have always been laid out (the controller's
  // assets gather a second per page); tests that cut or damage pages rely on many pages.
  const muxer = new OggOpusMuxer({ preSkip: PRE_SKIP, vendor: 'test', maxPageMs: 20 });
  const pages = [muxer.header()];
  // Enough frames to flush the encoder's look-ahead, so the file decodes to every sample.
  const frames = Math.ceil((samples.length + PRE_SKIP) / FRAME);
  const pcm = Buffer.alloc(FRAME * 2);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME; i++) {
      const s = samples[f * FRAME + i] ?? 0;
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2);
    }
    pages.push(muxer.packet(Buffer.from(encoder.encode(pcm, FRAME)), FRAME));
  }
  pages.push(muxer.end(samples.length));
  encoder.delete();
  return Buffer.concat(pages);
}

/** A sine tone. */
export function sine(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(48000 * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / 48000);
  return out;
}
