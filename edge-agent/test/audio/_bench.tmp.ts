import { OggOpusDecoder } from 'ogg-opus-decoder';
import { oggOpusFile, sine } from '../support/ogg-opus-fixture.js';

const t0 = performance.now();
const file = oggOpusFile(sine(440, 60));
console.log('encode 60s ms', performance.now() - t0, 'bytes', file.length);
let t = performance.now();
const d = new OggOpusDecoder();
await d.ready;
console.log('ready ms', performance.now() - t);
t = performance.now();
const whole = await d.decodeFile(file);
console.log('decodeFile ms', performance.now() - t, whole.samplesDecoded);
for (const size of [4096, 16384, 65536]) {
  const d2 = new OggOpusDecoder();
  await d2.ready;
  t = performance.now();
  let n = 0;
  let calls = 0;
  for (let at = 0; at < file.length; at += size) {
    const r = await d2.decode(file.subarray(at, at + size));
    n += r.samplesDecoded;
    calls++;
  }
  const f = await d2.flush();
  n += f.samplesDecoded;
  console.log('chunked', size, 'ms', performance.now() - t, n, 'flush', f.samplesDecoded, calls);
  d2.free();
}
t = performance.now();
const d3 = new OggOpusDecoder();
await d3.ready;
console.log('2nd ready ms', performance.now() - t);
