/**
 * Just enough of MQTT to read who is connecting: the first packet a client sends must be
 * CONNECT, and its payload starts with the client id (the receiver id in this project).
 * Handles MQTT 3.1 (level 3), 3.1.1 (level 4) and 5 (level 5).
 */

/** A CONNECT larger than this is refused: real ones are a few hundred bytes. */
export const MAX_CONNECT_BYTES = 64 * 1024;

export type ConnectRead =
  /** More bytes are needed before the packet is complete. */
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | {
      kind: 'connect';
      clientId: string;
      protocolLevel: 3 | 4 | 5;
      keepaliveS: number;
      /** Bytes of the whole CONNECT packet (what follows belongs to the next packet). */
      length: number;
    };

type VarInt = { value: number; length: number } | 'incomplete' | 'invalid';

/** MQTT's variable byte integer: 7 bits a byte, least significant first, at most 4 bytes. */
function readVarInt(buffer: Buffer, offset: number): VarInt {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const byte = buffer[offset + i];
    if (byte === undefined) return 'incomplete';
    value += (byte & 0x7f) * 128 ** i;
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return 'invalid';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Malformed extends Error {}

/** Reads fields from a complete packet body; running past its end means the packet lies about its lengths. */
class Reader {
  #offset = 0;
  constructor(private readonly body: Buffer) {}
  byte(): number {
    const value = this.body[this.#offset];
    if (value === undefined) throw new Malformed('packet ends early');
    this.#offset += 1;
    return value;
  }
  uint16(): number {
    return this.byte() * 256 + this.byte();
  }
  bytes(length: number): Buffer {
    if (this.#offset + length > this.body.length) throw new Malformed('packet ends early');
    const slice = this.body.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }
  string(): string {
    try {
      return utf8.decode(this.bytes(this.uint16()));
    } catch (error) {
      throw error instanceof Malformed ? error : new Malformed('string is not UTF-8');
    }
  }
  varInt(): number {
    const read = readVarInt(this.body, this.#offset);
    if (typeof read === 'string') throw new Malformed('bad variable byte integer');
    this.#offset += read.length;
    return read.value;
  }
}

/**
 * Reads the CONNECT at the start of `buffer` (all bytes received so far from a client).
 * Returns 'incomplete' until the whole packet is there, so the caller keeps buffering.
 */
export function readConnect(buffer: Buffer, maxBytes = MAX_CONNECT_BYTES): ConnectRead {
  if (buffer.length === 0) return { kind: 'incomplete' };
  // Fixed header: packet type 1 (CONNECT) in the high nibble, reserved flags 0.
  if (buffer[0] !== 0x10) return { kind: 'invalid', reason: 'first packet is not CONNECT' };
  const remaining = readVarInt(buffer, 1);
  if (remaining === 'invalid') return { kind: 'invalid', reason: 'bad remaining length' };
  if (remaining === 'incomplete') return { kind: 'incomplete' };
  const length = 1 + remaining.length + remaining.value;
  if (length > maxBytes) return { kind: 'invalid', reason: `CONNECT of ${length} bytes exceeds ${maxBytes}` };
  if (buffer.length < length) return { kind: 'incomplete' };

  try {
    const reader = new Reader(buffer.subarray(1 + remaining.length, length));
    const protocol = reader.string();
    const level = reader.byte();
    const known = (protocol === 'MQTT' && (level === 4 || level === 5)) || (protocol === 'MQIsdp' && level === 3);
    if (!known) return { kind: 'invalid', reason: `unknown protocol ${protocol} level ${level}` };
    const flags = reader.byte();
    if (flags & 0x01) return { kind: 'invalid', reason: 'reserved connect flag set' };
    const keepaliveS = reader.uint16();
    if (level === 5) reader.bytes(reader.varInt()); // CONNECT properties: not needed here
    const clientId = reader.string();
    return { kind: 'connect', clientId, protocolLevel: level, keepaliveS, length };
  } catch (error) {
    if (error instanceof Malformed) return { kind: 'invalid', reason: error.message };
    throw error;
  }
}
