/**
 * What a file is, from its first bytes, never from its name or declared type: a phone's
 * "recording.mp3" may be an M4A, and a disguised file must be refused for what it is.
 */
export type AudioFormat = 'wav' | 'mp3' | 'ogg-opus' | 'ogg-vorbis' | 'flac' | 'm4a' | 'webm';

export const FORMAT_NAMES: Record<AudioFormat, string> = {
  wav: 'WAV',
  mp3: 'MP3',
  'ogg-opus': 'Ogg Opus',
  'ogg-vorbis': 'Ogg Vorbis',
  flac: 'FLAC',
  m4a: 'M4A (AAC)',
  webm: 'WebM',
};

export type Sniffed = { audio: AudioFormat } | { audio: null; what: string };

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Known non-audio files, named so the refusal says what was sent instead. */
const NOT_AUDIO: [test: (b: Uint8Array) => boolean, what: string][] = [
  [(b) => b[0] === 0x89 && ascii(b, 1, 3) === 'PNG', 'a PNG image'],
  [(b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff, 'a JPEG image'],
  [(b) => ascii(b, 0, 4) === 'GIF8', 'a GIF image'],
  [(b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP', 'a WebP image'],
  [(b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'AVI ', 'an AVI video'],
  [(b) => ascii(b, 0, 5) === '%PDF-', 'a PDF document'],
  [(b) => ascii(b, 0, 4) === 'PK\x03\x04', 'a ZIP archive (or an Office document)'],
  [(b) => b[0] === 0x1f && b[1] === 0x8b, 'a gzip archive'],
  [(b) => ascii(b, 0, 4) === '\x7fELF', 'a program (ELF executable)'],
  [(b) => ascii(b, 0, 2) === 'MZ', 'a Windows program'],
  [(b) => /^\s*</.test(ascii(b, 0, 64)), 'an HTML or XML document'],
  [(b) => /^\s*[{[]/.test(ascii(b, 0, 16)), 'a JSON document'],
];

/** An MPEG audio frame header (sync, layer I–III, a valid bitrate and rate index). */
function mpegFrameAt(b: Uint8Array, at: number): boolean {
  const b1 = b[at + 1] ?? 0;
  const b2 = b[at + 2] ?? 0;
  return b[at] === 0xff && (b1 & 0xe0) === 0xe0 && (b1 & 0x06) !== 0 && b2 >> 4 !== 0xf && ((b2 >> 2) & 3) !== 3;
}

/** ID3v2 tags come before the first frame of many MP3s: their size is a syncsafe integer. */
function id3Size(b: Uint8Array): number {
  if (ascii(b, 0, 3) !== 'ID3') return 0;
  const size =
    (((b[6] ?? 0) & 0x7f) << 21) | (((b[7] ?? 0) & 0x7f) << 14) | (((b[8] ?? 0) & 0x7f) << 7) | ((b[9] ?? 0) & 0x7f);
  return 10 + size + ((b[5] ?? 0) & 0x10 ? 10 : 0);
}

/** The first packet of an Ogg stream names its codec. */
function oggCodec(b: Uint8Array): AudioFormat | string {
  const payload = 27 + (b[26] ?? 0);
  if (ascii(b, payload, 8) === 'OpusHead') return 'ogg-opus';
  if (ascii(b, payload, 7) === '\x01vorbis') return 'ogg-vorbis';
  if (ascii(b, payload, 5) === '\x7fFLAC') return 'flac';
  if (ascii(b, payload, 7) === '\x80theora') return 'an Ogg Theora video';
  return 'an Ogg file of an unknown codec';
}

/**
 * Sniffs the format from the head of a file (the first 64 kB is plenty; an MP3's ID3 tag
 * with cover art may be longer, and then its size alone is trusted).
 */
export function sniffAudio(head: Uint8Array): Sniffed {
  if (head.length === 0) return { audio: null, what: 'an empty file' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WAVE') return { audio: 'wav' };
  if (ascii(head, 0, 4) === 'fLaC') return { audio: 'flac' };
  if (ascii(head, 0, 4) === 'OggS') {
    const codec = oggCodec(head);
    return codec === 'ogg-opus' || codec === 'ogg-vorbis' || codec === 'flac'
      ? { audio: codec }
      : { audio: null, what: codec };
  }
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    // Matroska and WebM share EBML; browsers record WebM (DocType "webm").
    const docType = ascii(head, 0, 64).includes('webm') ? 'webm' : 'matroska';
    return docType === 'webm' ? { audio: 'webm' } : { audio: null, what: 'a Matroska (MKV) file' };
  }
  if (ascii(head, 4, 4) === 'ftyp') {
    const brand = ascii(head, 8, 4);
    if (/^(M4A |M4B |mp42|mp41|isom|iso2|dash|3gp[4-6])$/.test(brand)) return { audio: 'm4a' };
    return { audio: null, what: `an MP4-family file of brand "${brand.trim()}"` };
  }
  const id3 = id3Size(head);
  if (id3 > 0 && (id3 >= head.length - 4 || mpegFrameAt(head, id3))) return { audio: 'mp3' };
  if (mpegFrameAt(head, 0)) return { audio: 'mp3' };
  for (const [test, what] of NOT_AUDIO) if (test(head)) return { audio: null, what };
  return { audio: null, what: 'data in no known audio format' };
}

/** What a declared Content-Type or file extension claims, for the "disguised" check. */
export function claimedFormat(contentType: string | undefined, filename: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && type !== 'application/octet-stream' && type !== 'multipart/form-data') return type;
  const ext = filename?.match(/\.([A-Za-z0-9]{1,5})$/)?.[1];
  return ext ? `.${ext.toLowerCase()}` : undefined;
}
