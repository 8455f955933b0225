import { decodeWithFfmpeg } from '../src/audio/decoding/ffmpeg.js';
import { decodeOggOpusBytes } from '../src/audio/decoding/npm-decoders.js';
import { OggOpusEncoder } from '../src/audio/encoding/opus-encoder.js';
import { LoudnessMeter, Normaliser } from '../src/audio/loudness/index.js';
const chunks: Float32Array[] = [];
for await (const c of decodeWithFfmpeg('/tmp/tbench/in.wav')) chunks.push(c);
const m = new LoudnessMeter(48000); for (const c of chunks) m.push(c);
console.log('source', m.integratedLufs(), m.truePeakDbtp());
for (const g of [2, 3, 4, 6, 8, 10, 12]) {
  for (const lim of [-2, -3]) {
  const n = new Normaliser({ gain: 10 ** (g / 20), sampleRate: 48000, ceilingDbtp: lim });
  const e = new OggOpusEncoder();
  const pre = new LoudnessMeter(48000);
  for (const c of chunks) { const o = n.process(c); pre.push(o); e.push(o); }
  const f = n.flush(); pre.push(f); e.push(f);
  const ogg = e.end();
  const h = new LoudnessMeter(48000);
  for await (const p of decodeOggOpusBytes(ogg)) h.push(p);
  console.log(`gain ${g} limit ${lim}: pre ${pre.integratedLufs().toFixed(2)} LUFS ${pre.truePeakDbtp().toFixed(2)} dBTP; heard ${h.integratedLufs().toFixed(2)} LUFS ${h.truePeakDbtp().toFixed(2)} dBTP`);
  }
}
