import { sign, verify } from 'node:crypto';
import { KEY_ID_PATTERN, SESSION_ID_PATTERN } from '../messages/common.js';
import type { SigningKey, TrustedKeySet } from '../signing/keys.js';

/**
 * Live audio travels as compact signed binary packets, not JSON: at 24 kbit/s a 20 ms
 * Opus frame is ~60 bytes, so base64 in JSON would cost a third more airtime on 3G.
 * Several frames share one signature to keep its 64 bytes affordable.
 *
 *   offset size  field
 *   0      2     magic "LV"
 *   2      1     version (1)
 *   3      1     flags: bit 0 = last packet of the session
 *   4      4     seq, uint32 BE, +1 per packet
 *   8      8     captureTs, float64 BE: controller-clock Unix ms of the first frame
 *   16     1     frameMs (10, 20, 40 or 60)
 *   17     1     frameCount (0-50; 0 = keep-alive)
 *   18     ...   frames: uint16 BE length (1-1275) + Opus frame, frameCount times
 *   ...    1     keyId length k
 *   ...    k     keyId (ASCII)
 *   ...    64    Ed25519 signature over "loa/v1/live\0" + sessionId + "\0" + all bytes before it
 *
 * The session id is bound into the signature, so packets cannot be moved between
 * sessions; the receiver drops sequence numbers it has already played.
 */
export interface LivePacket {
  seq: number;
  captureTs: number;
  frameMs: 10 | 20 | 40 | 60;
  last: boolean;
  frames: Uint8Array[];
}

const MAGIC = 0x4c56; // "LV"
const VERSION = 1;
const HEADER = 18;
const MAX_FRAMES = 50;
const MAX_FRAME_BYTES = 1275; // the largest Opus frame (RFC 6716)
const FRAME_MS = new Set([10, 20, 40, 60]);
export const MAX_LIVE_PACKET_BYTES = HEADER + MAX_FRAMES * (2 + MAX_FRAME_BYTES) + 1 + 64 + 64;

const sessionRe = new RegExp(SESSION_ID_PATTERN);
const keyIdRe = new RegExp(KEY_ID_PATTERN);

function signedBytes(sessionId: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`loa/v1/live\0${sessionId}\0`, 'ascii'), body]);
}

export function encodeLivePacket(packet: LivePacket, sessionId: string, key: SigningKey): Buffer {
  if (!sessionRe.test(sessionId)) throw new Error(`invalid session id ${JSON.stringify(sessionId)}`);
  if (!Number.isInteger(packet.seq) || packet.seq < 0 || packet.seq > 0xffffffff) throw new Error('seq out of range');
  if (!Number.isFinite(packet.captureTs)) throw new Error('captureTs must be finite');
  if (!FRAME_MS.has(packet.frameMs)) throw new Error('frameMs must be 10, 20, 40 or 60');
  if (packet.frames.length > MAX_FRAMES) throw new Error(`at most ${MAX_FRAMES} frames per packet`);
  const keyId = Buffer.from(key.keyId, 'ascii');
  const frameBytes = packet.frames.reduce((n, f) => {
    if (f.byteLength < 1 || f.byteLength > MAX_FRAME_BYTES) throw new Error('frame size out of range');
    return n + 2 + f.byteLength;
  }, 0);
  const body = Buffer.alloc(HEADER + frameBytes + 1 + keyId.length);
  body.writeUInt16BE(MAGIC, 0);
  body.writeUInt8(VERSION, 2);
  body.writeUInt8(packet.last ? 1 : 0, 3);
  body.writeUInt32BE(packet.seq, 4);
  body.writeDoubleBE(packet.captureTs, 8);
  body.writeUInt8(packet.frameMs, 16);
  body.writeUInt8(packet.frames.length, 17);
  let offset = HEADER;
  for (const frame of packet.frames) {
    body.writeUInt16BE(frame.byteLength, offset);
    body.set(frame, offset + 2);
    offset += 2 + frame.byteLength;
  }
  body.writeUInt8(keyId.length, offset);
  keyId.copy(body, offset + 1);
  const signature = sign(null, signedBytes(sessionId, body), key.privateKey);
  return Buffer.concat([body, signature]);
}

export type LivePacketCheck =
  | { ok: true; packet: LivePacket }
  | { ok: false; reason: 'malformed' | 'unsupported_version' | 'unknown_key' | 'bad_signature'; detail: string };

/** Parses and verifies one packet of the given session. Never throws. */
export function decodeLivePacket(data: Uint8Array, sessionId: string, keys: TrustedKeySet): LivePacketCheck {
  const malformed = (detail: string): LivePacketCheck => ({ ok: false, reason: 'malformed', detail });
  if (data.byteLength > MAX_LIVE_PACKET_BYTES) return malformed('packet too large');
  if (data.byteLength < HEADER + 1 + 64) return malformed('packet too short');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.readUInt16BE(0) !== MAGIC) return malformed('bad magic');
  if (buf.readUInt8(2) !== VERSION)
    return { ok: false, reason: 'unsupported_version', detail: `version ${buf.readUInt8(2)}` };
  const flags = buf.readUInt8(3);
  if (flags > 1) return malformed('unknown flags');
  const frameMs = buf.readUInt8(16);
  if (!FRAME_MS.has(frameMs)) return malformed('bad frameMs');
  const count = buf.readUInt8(17);
  if (count > MAX_FRAMES) return malformed('too many frames');
  const frames: Uint8Array[] = [];
  let offset = HEADER;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > buf.length) return malformed('truncated frame length');
    const length = buf.readUInt16BE(offset);
    if (length < 1 || length > MAX_FRAME_BYTES || offset + 2 + length > buf.length)
      return malformed('bad frame length');
    frames.push(buf.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  if (offset + 1 > buf.length) return malformed('truncated key id');
  const keyIdLength = buf.readUInt8(offset);
  if (offset + 1 + keyIdLength + 64 !== buf.length) return malformed('bad length');
  const keyId = buf.toString('latin1', offset + 1, offset + 1 + keyIdLength);
  if (!keyIdRe.test(keyId)) return malformed('bad key id');
  const publicKey = keys.lookup(keyId);
  if (!publicKey) return { ok: false, reason: 'unknown_key', detail: keyId };
  if (!sessionRe.test(sessionId)) return malformed('bad session id');
  const bodyEnd = buf.length - 64;
  const ok = verify(null, signedBytes(sessionId, buf.subarray(0, bodyEnd)), publicKey, buf.subarray(bodyEnd));
  if (!ok) return { ok: false, reason: 'bad_signature', detail: keyId };
  const captureTs = buf.readDoubleBE(8);
  if (!Number.isFinite(captureTs)) return malformed('bad captureTs');
  return {
    ok: true,
    packet: {
      seq: buf.readUInt32BE(4),
      captureTs,
      frameMs: frameMs as LivePacket['frameMs'],
      last: flags === 1,
      frames,
    },
  };
}
