// Checks that bytes are one Ogg Opus stream (RFC 3533 framing, RFC 7845 encapsulation,
// RFC 6716 packet durations) and measures it, before the controller stores and serves it.
//
// Written by hand on purpose. No maintained npm Ogg demuxer without native parts fits:
// the ones that exist are built to play streams leniently, not to refuse damaged files.
// codec-parser (installed only as a dependency of the edge agent's ogg-opus-decoder) reads
// the page checksum but never verifies it and resynchronises past damaged data;
// ogg-opus-decoder decodes (WebAssembly) but is not a controller dependency. What is
// needed here is small: walk the pages, verify each CRC, follow packet boundaries, read
// two headers and one byte per audio packet. Decoding the audio is the audio pipeline's.

/** What a valid file holds. */
export interface OggOpusInfo {
  /** Playing time after pre-skip, rounded to the millisecond (at least 1). */
  durationMs: number;
  /** Samples at 48 kHz after pre-skip: the last page's granule position minus pre-skip. */
  samples: number;
  channels: number;
  /** Samples at 48 kHz the decoder drops at the start (encoder delay). */
  preSkip: number;
  /** The sample rate of the encoder's input (informational only; Opus always decodes at 48 kHz). */
  inputSampleRate: number;
  /** Channel mapping family: 0 (mono, stereo) or 1 (up to 8 channels, Vorbis order). */
  mappingFamily: number;
  /** The encoder named in OpusTags. */
  vendor: string;
  serial: number;
  pages: number;
  audioPackets: number;
}

/**
 * Why bytes were refused:
 * - `empty`: no bytes;
 * - `not-ogg`: not an Ogg file (WAV, MP3, FLAC, ... are named);
 * - `not-opus`: an Ogg file of another codec (Vorbis, FLAC, Speex, ...);
 * - `unsupported`: Opus, but a header version or channel layout receivers cannot play;
 * - `multiple-streams`: several logical streams (multiplexed or chained Ogg);
 * - `truncated`: cut short (the last page is incomplete, or there is no end-of-stream page);
 * - `corrupt`: damaged (a page fails its CRC, pages missing, malformed headers or packets);
 * - `zero-duration`: no audio;
 * - `too-long`: longer than the limit.
 */
export type ProbeReason =
  | 'empty'
  | 'not-ogg'
  | 'not-opus'
  | 'unsupported'
  | 'multiple-streams'
  | 'truncated'
  | 'corrupt'
  | 'zero-duration'
  | 'too-long';

export type ProbeResult = { ok: true; info: OggOpusInfo } | { ok: false; reason: ProbeReason; message: string };

export interface ProbeOptions {
  /** Longest playing time accepted. Default: no limit. */
  maxDurationMs?: number;
}

/** Opus always runs at 48 kHz: granule positions count 48 kHz samples. */
export const OPUS_SAMPLE_RATE = 48_000;

class Refusal extends Error {
  constructor(
    readonly reason: ProbeReason,
    message: string,
  ) {
    super(message);
  }
}

function refuse(reason: ProbeReason, message: string): never {
  throw new Refusal(reason, message);
}

/**
 * Checks and measures an Ogg Opus file. Never throws for any input: every problem is
 * answered as `{ ok: false, reason, message }`, the message naming what is wrong.
 */
export function probeOggOpus(bytes: Uint8Array, options: ProbeOptions = {}): ProbeResult {
  try {
    return { ok: true, info: probe(bytes, options) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
}

// CRC-32 of Ogg (RFC 3533): polynomial 0x04c11db7, initial value 0, not reflected, no final xor.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The CRC of a whole page, its CRC field (bytes 22-25) counted as zeros. */
function pageCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : (page[i] as number);
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  }
  return crc;
}

const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const HEADER_BYTES = 27;

interface Page {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  lacing: Uint8Array;
  body: Uint8Array;
  length: number;
}

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));

const isOggCapture = (bytes: Uint8Array, offset: number) => ascii(bytes, offset, offset + 4) === 'OggS';

const ONLY_OPUS = 'only Ogg Opus is accepted until the audio pipeline converts other formats';

/** What bytes that are not Ogg look like, when it is obvious. */
function lookalike(b: Uint8Array): string | undefined {
  const at = (i: number) => b[i] ?? -1;
  const head4 = ascii(b, 0, 4);
  if (head4 === 'RIFF' && ascii(b, 8, 12) === 'WAVE') return 'a WAV file';
  if (head4 === 'RF64' || head4 === 'BW64') return 'a WAV (RF64) file';
  if (head4 === 'fLaC') return 'a FLAC file';
  if (ascii(b, 0, 3) === 'ID3') return 'an MP3 file (it begins with an ID3 tag)';
  if (at(0) === 0xff && (at(1) & 0xf6) === 0xf0) return 'an AAC (ADTS) file';
  if (at(0) === 0xff && (at(1) & 0xe0) === 0xe0 && (at(1) & 0x06) !== 0) return 'an MP3 file';
  if (ascii(b, 4, 8) === 'ftyp') return 'an MP4/M4A file';
  if (at(0) === 0x1a && at(1) === 0x45 && at(2) === 0xdf && at(3) === 0xa3) return 'a WebM/Matroska file';
  if (head4 === 'FORM' && /^AIF[FC]$/.test(ascii(b, 8, 12))) return 'an AIFF file';
  if (ascii(b, 0, 5) === '#!AMR') return 'an AMR file';
  if (ascii(b, 0, 8) === 'OpusHead') return 'a bare Opus header without Ogg framing';
  if (head4 === 'MThd') return 'a MIDI file';
  const text = ascii(b, 0, 64).trimStart();
  if (/^[{[]/.test(text)) return 'JSON text, not audio';
  if (/^<(!doctype|html|\?xml)/i.test(text)) return 'an HTML/XML document, not audio';
  return undefined;
}

function notOgg(bytes: Uint8Array): never {
  const like = lookalike(bytes);
  return refuse(
    'not-ogg',
    like
      ? `this is ${like}; ${ONLY_OPUS}`
      : `this is not an Ogg file (it does not begin with the Ogg capture pattern "OggS"); ${ONLY_OPUS}`,
  );
}

/** The codec of an Ogg stream that is not Opus, from its first packet. */
function otherCodec(packet: Uint8Array): string {
  if (packet[0] === 0x01 && ascii(packet, 1, 7) === 'vorbis') return 'an Ogg Vorbis file';
  if (packet[0] === 0x7f && ascii(packet, 1, 5) === 'FLAC') return 'an Ogg FLAC file';
  if (ascii(packet, 0, 8) === 'Speex   ') return 'an Ogg Speex file';
  if (packet[0] === 0x80 && ascii(packet, 1, 7) === 'theora') return 'an Ogg Theora video';
  if (ascii(packet, 0, 8) === 'fishead\0') return 'an Ogg file with a Skeleton stream (a multiplexed file)';
  return 'an Ogg file of an unknown codec (its first packet is not OpusHead)';
}

function readPage(bytes: Uint8Array, view: DataView, offset: number, index: number): Page {
  const remaining = bytes.length - offset;
  if (!isOggCapture(bytes, offset)) {
    if (index === 0) return notOgg(bytes);
    if (remaining < 4 && 'OggS'.startsWith(ascii(bytes, offset, bytes.length)))
      return refuse(
        'truncated',
        `the file ends inside the header of page ${index} (at byte ${offset}): it is cut short`,
      );
    return refuse(
      'corrupt',
      `at byte ${offset}, where page ${index} should begin, there is no Ogg page (no "OggS"): the file is damaged`,
    );
  }
  if (remaining < HEADER_BYTES)
    return refuse('truncated', `the file ends inside the header of page ${index} (at byte ${offset}): it is cut short`);
  const version = bytes[offset + 4] as number;
  if (version !== 0)
    return refuse('corrupt', `page ${index} (at byte ${offset}) says Ogg version ${version}; only version 0 exists`);
  const segments = bytes[offset + 26] as number;
  const headerLength = HEADER_BYTES + segments;
  if (remaining < headerLength)
    return refuse('truncated', `the file ends inside the header of page ${index} (at byte ${offset}): it is cut short`);
  const lacing = bytes.subarray(offset + HEADER_BYTES, offset + headerLength);
  let bodyLength = 0;
  for (const value of lacing) bodyLength += value;
  const length = headerLength + bodyLength;
  if (remaining < length)
    return refuse(
      'truncated',
      `page ${index} (at byte ${offset}) needs ${length} bytes but the file ends after ${remaining}: it is cut short`,
    );
  const whole = bytes.subarray(offset, offset + length);
  const stored = view.getUint32(offset + 22, true);
  if (pageCrc(whole) !== stored)
    return refuse('corrupt', `page ${index} (at byte ${offset}) fails its CRC check: the file is damaged`);
  return {
    flags: bytes[offset + 5] as number,
    granule: view.getBigInt64(offset + 6, true),
    serial: view.getUint32(offset + 14, true),
    sequence: view.getUint32(offset + 18, true),
    lacing,
    body: whole.subarray(headerLength),
    length,
  };
}

interface OpusHead {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  mappingFamily: number;
}

/** RFC 7845 §5.1. */
function parseOpusHead(p: Uint8Array): OpusHead {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (p.length < 19) return refuse('corrupt', `the OpusHead header is ${p.length} bytes; it has at least 19`);
  const version = p[8] as number;
  // Versions 1-15 share the layout (RFC 7845: a newer minor version stays compatible).
  if (version === 0 || version > 15)
    return refuse('unsupported', `OpusHead version ${version} is not supported (only version 1, RFC 7845)`);
  const channels = p[9] as number;
  const mappingFamily = p[18] as number;
  if (channels === 0) return refuse('corrupt', 'the OpusHead header says 0 channels');
  if (mappingFamily === 0) {
    if (channels > 2)
      return refuse('corrupt', `the OpusHead header says ${channels} channels without a channel mapping table`);
  } else if (mappingFamily === 1) {
    if (channels > 8)
      return refuse('corrupt', `the OpusHead header says ${channels} channels; mapping family 1 has at most 8`);
    if (p.length < 21 + channels) return refuse('corrupt', 'the OpusHead channel mapping table is cut short');
    const streams = p[19] as number;
    const coupled = p[20] as number;
    if (streams === 0 || coupled > streams)
      return refuse('corrupt', `the OpusHead header gives ${streams} streams of which ${coupled} coupled`);
    for (let c = 0; c < channels; c++) {
      const mapping = p[21 + c] as number;
      if (mapping !== 255 && mapping >= streams + coupled)
        return refuse('corrupt', `the OpusHead channel mapping names stream ${mapping}, which does not exist`);
    }
  } else {
    return refuse(
      'unsupported',
      `Opus channel mapping family ${mappingFamily} is not supported (only 0: mono or stereo, and 1: up to 8 channels)`,
    );
  }
  return { channels, preSkip: view.getUint16(10, true), inputSampleRate: view.getUint32(12, true), mappingFamily };
}

/** RFC 7845 §5.2: answers the vendor string. */
function parseOpusTags(p: Uint8Array): string {
  if (ascii(p, 0, 8) !== 'OpusTags')
    return refuse('corrupt', 'the second packet is not the OpusTags header an Opus file must have there');
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const malformed = () => refuse('corrupt', 'the OpusTags header is malformed (its lengths run past its end)');
  if (p.length < 16) return malformed();
  const vendorLength = view.getUint32(8, true);
  let at = 12 + vendorLength;
  if (at + 4 > p.length) return malformed();
  const vendor = new TextDecoder().decode(p.subarray(12, Math.min(at, 12 + 200)));
  const count = view.getUint32(at, true);
  at += 4;
  for (let i = 0; i < count; i++) {
    if (at + 4 > p.length) return malformed();
    at += 4 + view.getUint32(at, true);
    if (at > p.length) return malformed();
  }
  return vendor;
}

/** Samples (48 kHz) of one frame, by TOC configuration (RFC 6716 §3.1, Table 2). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3] as number; // SILK: 10, 20, 40, 60 ms
  if (config < 16) return [480, 960][config & 1] as number; // Hybrid: 10, 20 ms
  return [120, 240, 480, 960][config & 3] as number; // CELT: 2.5, 5, 10, 20 ms
}

/** Samples (48 kHz) of an audio packet from its first two bytes (RFC 6716 §3.1-3.2). */
function packetSamples(first: number, second: number, length: number, packet: number): number {
  if (length === 0) return 0; // a lost packet (RFC 7845 §3); nothing to play
  const perFrame = frameSamples(first >> 3);
  const code = first & 3;
  let frames = code === 0 ? 1 : 2;
  if (code === 3) {
    if (length < 2) return refuse('corrupt', `audio packet ${packet} is cut short (no frame count)`);
    frames = second & 0x3f;
    if (frames === 0) return refuse('corrupt', `audio packet ${packet} says it holds 0 frames`);
  }
  const samples = frames * perFrame;
  if (samples > 5760) return refuse('corrupt', `audio packet ${packet} says it lasts more than 120 ms`);
  return samples;
}

const seconds = (samples: number | bigint) => `${(Number(samples) / OPUS_SAMPLE_RATE).toFixed(3)} s`;

function probe(bytes: Uint8Array, options: ProbeOptions): OggOpusInfo {
  if (bytes.length === 0) return refuse('empty', 'the file is empty (0 bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let index = 0;
  let serial = 0;
  let expectedSequence = 0;
  /** The last packet of the previous page continues on the next. */
  let unfinished = false;
  let ended = false;
  /** Packets completed so far: 0 OpusHead, 1 OpusTags, then audio. */
  let packets = 0;
  let headerParts: Uint8Array[] = [];
  let head: OpusHead | undefined;
  let vendor = '';
  let packetLength = 0;
  let toc: [number, number] = [0, 0];
  let audioSamples = 0;
  let lastGranule = -1n;

  while (offset < bytes.length) {
    if (ended) {
      if (isOggCapture(bytes, offset) && ((bytes[offset + 5] ?? 0) & FLAG_BOS) !== 0)
        refuse(
          'multiple-streams',
          `another logical stream begins after the end of the first (at byte ${offset}): this is a chained Ogg file; upload each recording as its own file`,
        );
      refuse(
        'corrupt',
        `${bytes.length - offset} bytes follow the end-of-stream page (from byte ${offset}): the file is damaged`,
      );
    }
    const page = readPage(bytes, view, offset, index);
    if (index === 0) {
      // The first packet begins the first page's data; its first bytes name the codec.
      if (ascii(page.body, 0, 8) !== 'OpusHead') refuse('not-opus', `this is ${otherCodec(page.body)}; ${ONLY_OPUS}`);
      if ((page.flags & FLAG_BOS) === 0) refuse('corrupt', 'the first page lacks the beginning-of-stream flag');
      serial = page.serial;
    } else {
      if (page.serial !== serial) {
        if ((page.flags & FLAG_BOS) !== 0)
          refuse(
            'multiple-streams',
            `page ${index} begins a second logical stream: this Ogg file holds several streams (multiplexed); upload a single Opus stream`,
          );
        refuse('corrupt', `page ${index} belongs to another stream than the first page: the file is damaged`);
      }
      if ((page.flags & FLAG_BOS) !== 0) refuse('corrupt', `page ${index} is marked beginning-of-stream again`);
      if (page.sequence !== expectedSequence)
        refuse(
          'corrupt',
          `page ${index} has sequence number ${page.sequence} where ${expectedSequence} was expected: pages are missing or out of order`,
        );
    }
    if (((page.flags & FLAG_CONTINUED) !== 0) !== unfinished)
      refuse(
        'corrupt',
        unfinished
          ? `page ${index} does not continue the packet the page before it left unfinished: data is missing`
          : `page ${index} claims to continue a packet, but the page before it ended with a complete packet`,
      );
    expectedSequence = (page.sequence + 1) >>> 0;
    ended = (page.flags & FLAG_EOS) !== 0;

    const audioPage = packets >= 2;
    let position = 0;
    let tagsEndedHere = false;
    for (const lace of page.lacing) {
      const segment = page.body.subarray(position, position + lace);
      position += lace;
      if (packets < 2) headerParts.push(segment);
      else {
        // A packet's first two bytes (TOC, frame count) are in its first segment.
        if (packetLength === 0) toc = [segment[0] ?? 0, segment[1] ?? 0];
        packetLength += lace;
      }
      if (lace === 255) continue;
      // A lacing value below 255 ends a packet.
      if (packets === 0) head = parseOpusHead(concat(headerParts));
      else if (packets === 1) {
        vendor = parseOpusTags(concat(headerParts));
        tagsEndedHere = true;
      } else {
        if (tagsEndedHere)
          refuse('corrupt', `audio shares page ${index} with the OpusTags header (RFC 7845: it must finish its page)`);
        audioSamples += packetSamples(toc[0], toc[1], packetLength, packets - 1);
        packetLength = 0;
      }
      if (packets < 2) headerParts = [];
      packets++;
    }
    if (page.lacing.length > 0) unfinished = page.lacing[page.lacing.length - 1] === 255;
    if (index === 0 && (packets !== 1 || unfinished))
      refuse('corrupt', 'the first page must hold the OpusHead header alone (RFC 7845)');
    if (tagsEndedHere && unfinished)
      refuse('corrupt', `audio shares page ${index} with the OpusTags header (RFC 7845: it must finish its page)`);
    if (audioPage && page.granule !== -1n) {
      // -1: no packet ends on this page. Otherwise samples so far, including pre-skip.
      if (page.granule < 0n) refuse('corrupt', `page ${index} has a negative granule position`);
      if (page.granule < lastGranule) refuse('corrupt', `the granule position goes backwards at page ${index}`);
      lastGranule = page.granule;
    }
    offset += page.length;
    index++;
  }

  if (!head || packets < 2)
    refuse('truncated', 'the file ends before its OpusTags header is complete: it is cut short');
  if (!ended)
    refuse(
      'truncated',
      `the last page (${index - 1}) is not marked end-of-stream: the file is cut short (an incomplete upload or copy?)`,
    );
  if (unfinished) refuse('truncated', 'the last audio packet is incomplete: the file is cut short');
  const opus = head;
  const audioPackets = packets - 2;
  if (audioPackets === 0) refuse('zero-duration', 'the file has Opus headers but no audio');
  if (lastGranule < 0n) refuse('corrupt', 'no audio page gives a granule position, so the duration is unknown');
  const samples = lastGranule - BigInt(opus.preSkip);
  if (samples <= 0n)
    refuse(
      'zero-duration',
      `the file plays for 0 s: its last granule position (${lastGranule}) is not past the pre-skip (${opus.preSkip})`,
    );
  if (samples > BigInt(audioSamples))
    refuse(
      'corrupt',
      `its last granule position claims ${seconds(samples)} of audio but its packets hold only ${seconds(audioSamples)}: the file is damaged`,
    );
  const durationMs = Math.round((Number(samples) * 1000) / OPUS_SAMPLE_RATE);
  if (durationMs < 1) refuse('zero-duration', 'the file plays for less than a millisecond');
  if (options.maxDurationMs !== undefined && durationMs > options.maxDurationMs)
    refuse(
      'too-long',
      `the recording lasts ${formatDuration(durationMs)}; at most ${formatDuration(options.maxDurationMs)} is accepted`,
    );
  return {
    durationMs,
    samples: Number(samples),
    channels: opus.channels,
    preSkip: opus.preSkip,
    inputSampleRate: opus.inputSampleRate,
    mappingFamily: opus.mappingFamily,
    vendor,
    serial,
    pages: index,
    audioPackets,
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** 1:02:03, 4:05 or 0.250 s. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
