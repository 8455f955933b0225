import OpusScript from 'opusscript';

// Real Ogg Opus files from PCM, for the simulator's test audio and for tests: libopus
// (opusscript, its wasm build) encodes; the Ogg framing (RFC 3533, RFC 7845) is written
// here because no npm package without native parts does it, and one frame per page is
// all a writer of test audio needs. Receivers only ever decode.
const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

/** The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection), for page writers. */
export function oggCrc32(data: Buffer): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return crc;
}

function page(packet: Buffer, granule: bigint, seq: number, flags: number): Buffer {
  const segments: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    segments.push(255);
    left -= 255;
  }
  segments.push(left);
  const header = Buffer.alloc(27 + segments.length);
  header.write('OggS', 0);
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x4c4f4121, 14); // stream serial
  header.writeUInt32LE(seq, 18);
  header[26] = segments.length;
  Buffer.from(segments).copy(header, 27);
  const whole = Buffer.concat([header, packet]);
  whole.writeUInt32LE(oggCrc32(whole), 22);
  return whole;
}

/** An Ogg Opus file (48 kHz mono) of the given samples (-1..1). */
export function oggOpusFile(samples: Float32Array): Buffer {
  const encoder = new OpusScript(48000, 1, OpusScript.Application.AUDIO);
  const preSkip = 312;
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0);
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48000, 12);
  const tags = Buffer.concat([
    Buffer.from('OpusTags'),
    Buffer.from([4, 0, 0, 0]),
    Buffer.from('test'),
    Buffer.alloc(4),
  ]);
  const pages = [page(head, 0n, 0, 2), page(tags, 0n, 1, 0)];
  const frame = 960;
  const frames = Math.ceil(samples.length / frame);
  for (let f = 0; f < frames; f++) {
    const pcm = Buffer.alloc(frame * 2);
    for (let i = 0; i < frame; i++) {
      const s = samples[f * frame + i] ?? 0;
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2);
    }
    const packet = Buffer.from(encoder.encode(pcm, frame));
    const granule = BigInt(Math.min((f + 1) * frame, samples.length) + preSkip);
    pages.push(page(packet, granule, f + 2, f === frames - 1 ? 4 : 0));
  }
  encoder.delete();
  return Buffer.concat(pages);
}

/** A sine tone. */
export function sine(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(48000 * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / 48000);
  return out;
}
