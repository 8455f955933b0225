// The file format of every audio asset receivers download: Opus in Ogg (RFC 7845 over
// RFC 3533). Written here by hand because no npm package without native parts muxes Ogg
// Opus, and both the controller's encoder and the edge agent's test-audio writer need the
// same pages. Reading is done by ogg-opus-decoder (receivers) and the controller's probe.

/** Opus always counts time at 48 kHz, whatever the input rate. */
export const OPUS_RATE = 48_000;

const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

/** The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection). */
export function oggCrc32(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return crc;
}

const EMPTY = Buffer.alloc(0);
const FLAG_CONTINUED = 0x01;
const FLAG_FIRST = 0x02;
const FLAG_LAST = 0x04;

/** One Ogg page of whole packets (each packet's lacing values, then the packets). */
function oggPage(packets: Uint8Array[], granule: bigint, serial: number, sequence: number, flags: number): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'latin1');
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(serial >>> 0, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = lacing.length;
  Buffer.from(lacing).copy(header, 27);
  const page = Buffer.concat([header, ...packets]);
  page.writeUInt32LE(oggCrc32(page), 22);
  return page;
}

export interface OggOpusMuxerOptions {
  /** Samples (at 48 kHz) the decoder drops at the start: the encoder's look-ahead. */
  preSkip: number;
  /** Rate of the original input, recorded for players (playback is always 48 kHz). */
  inputSampleRate?: number;
  channels?: 1 | 2;
  /** Vendor string and user comments of the OpusTags header. */
  vendor?: string;
  comments?: Record<string, string>;
  serial?: number;
  /** Longest stretch of audio on one page. Default 1 s, as opusenc: little overhead, quick seeking. */
  maxPageMs?: number;
}

/**
 * Streams packets into Ogg pages: `header()` first, then `packet()` for each Opus packet
 * and `end()` with the true number of input samples, which trims the padding of the last
 * packet (RFC 7845 §4.4). Pages gather up to about a second of packets, so the Ogg framing
 * costs some 30 bytes a second rather than 1.4 kB at one 20 ms packet per page.
 */
export class OggOpusMuxer {
  readonly #serial: number;
  readonly #preSkip: number;
  readonly #maxPageSamples: number;
  readonly #options: OggOpusMuxerOptions;
  #sequence = 0;
  #pending: Uint8Array[] = [];
  #pendingLacing = 0;
  #pendingSamples = 0;
  /** Granule position (48 kHz samples, pre-skip included) at the end of the packets written. */
  #granule = 0;

  constructor(options: OggOpusMuxerOptions) {
    this.#options = options;
    this.#serial = options.serial ?? 0x4c4f4121;
    this.#preSkip = options.preSkip;
    this.#maxPageSamples = ((options.maxPageMs ?? 1000) * OPUS_RATE) / 1000;
  }

  /** The two header pages: OpusHead (alone on the first page) and OpusTags. */
  header(): Buffer {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = this.#options.channels ?? 1;
    head.writeUInt16LE(this.#preSkip, 10);
    head.writeUInt32LE(this.#options.inputSampleRate ?? OPUS_RATE, 12);
    const vendor = Buffer.from(this.#options.vendor ?? 'loa', 'utf8');
    const comments = Object.entries(this.#options.comments ?? {}).map(([k, v]) => Buffer.from(`${k}=${v}`, 'utf8'));
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const tags = Buffer.concat([
      Buffer.from('OpusTags', 'latin1'),
      u32(vendor.length),
      vendor,
      u32(comments.length),
      ...comments.flatMap((c) => [u32(c.length), c]),
    ]);
    return Buffer.concat([
      oggPage([head], 0n, this.#serial, this.#sequence++, FLAG_FIRST),
      oggPage([tags], 0n, this.#serial, this.#sequence++, 0),
    ]);
  }

  /** Adds one packet of `samples` 48 kHz samples; answers the pages it completed (often none). */
  packet(packet: Uint8Array, samples: number): Buffer {
    const lacing = Math.floor(packet.length / 255) + 1;
    // A full page goes out only when the next packet arrives, so the last page always
    // holds a packet for end() to mark.
    const full = this.#pendingLacing + lacing > 255 || this.#pendingSamples >= this.#maxPageSamples;
    const page = full ? this.#flush(0) : EMPTY;
    this.#pending.push(packet);
    this.#pendingLacing += lacing;
    this.#pendingSamples += samples;
    this.#granule += samples;
    return page;
  }

  /** The last page, its granule trimmed to `inputSamples` (48 kHz) of real audio. */
  end(inputSamples: number): Buffer {
    this.#granule = Math.min(this.#granule, this.#preSkip + inputSamples);
    return this.#flush(FLAG_LAST);
  }

  #flush(flags: number): Buffer {
    const page = oggPage(this.#pending, BigInt(this.#granule), this.#serial, this.#sequence++, flags);
    this.#pending = [];
    this.#pendingLacing = 0;
    this.#pendingSamples = 0;
    return page;
  }
}

/** Flags of a page that continues a packet from the previous page (for readers). */
export const OGG_FLAGS = { continued: FLAG_CONTINUED, first: FLAG_FIRST, last: FLAG_LAST } as const;
