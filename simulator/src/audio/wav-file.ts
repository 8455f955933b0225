/** 16-bit PCM mono WAV: what the virtual sound card records and the scenarios push. */
export interface Wav16 {
  sampleRate: number;
  samples: Int16Array;
}

const HEADER_BYTES = 44;

/** A canonical 44-byte-header WAV (RIFF, PCM format 1, mono, 16-bit little-endian). */
export function encodeWav16({ sampleRate, samples }: Wav16): Buffer {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`bad WAV sample rate ${sampleRate}`);
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(HEADER_BYTES + dataBytes);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32); // block align
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, HEADER_BYTES + i * 2);
  return out;
}

/**
 * Reads a mono 16-bit PCM WAV (chunks in any order, unknown chunks skipped); anything
 * else is refused with what it is, so a broken recording fails its check loudly.
 */
export function decodeWav16(bytes: Buffer, name = 'WAV'): Wav16 {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE')
    throw new Error(`${name} is not a WAV file (no RIFF/WAVE header)`);
  let format: { channels: number; sampleRate: number; bits: number; code: number } | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (body + size > bytes.length) throw new Error(`${name}: chunk "${id}" runs past the end of the file`);
    if (id === 'fmt ') {
      if (size < 16) throw new Error(`${name}: fmt chunk of ${size} bytes`);
      format = {
        code: bytes.readUInt16LE(body),
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bits: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) throw new Error(`${name}: data before the fmt chunk`);
      if (format.code !== 1 || format.channels !== 1 || format.bits !== 16)
        throw new Error(
          `${name}: format ${format.code}, ${format.channels} channels, ${format.bits} bits; expected 16-bit PCM mono`,
        );
      const samples = new Int16Array(size >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + i * 2);
      return { sampleRate: format.sampleRate, samples };
    }
    at = body + size + (size & 1);
  }
  throw new Error(`${name}: no data chunk`);
}
