import { decodeLivePacket, encodeLivePacket, type LivePacket } from '@loa/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issuer, NOW } from './fixtures.js';

const SESSION = 'live-session-01';

function packet(overrides: Partial<LivePacket> = {}): LivePacket {
  return {
    seq: 42,
    captureTs: NOW + 0.25,
    frameMs: 20,
    last: false,
    frames: [new Uint8Array(60).fill(1), new Uint8Array(58).fill(2), new Uint8Array(61).fill(3)],
    ...overrides,
  };
}

describe('live audio packets', () => {
  it('round-trip frames, sequence and capture time', () => {
    const { key, keys } = issuer();
    const encoded = encodeLivePacket(packet(), SESSION, key);
    expect(encoded.length).toBeLessThan(18 + 3 * 62 + 1 + 43 + 64 + 1);
    const decoded = decodeLivePacket(encoded, SESSION, keys);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.packet.seq).toBe(42);
    expect(decoded.packet.captureTs).toBe(NOW + 0.25);
    expect(decoded.packet.frames.map((f) => f.length)).toEqual([60, 58, 61]);
    expect(decoded.packet.frames[2]?.[0]).toBe(3);
    const keepAlive = decodeLivePacket(
      encodeLivePacket(packet({ frames: [], last: true }), SESSION, key),
      SESSION,
      keys,
    );
    expect(keepAlive.ok && keepAlive.packet.last && keepAlive.packet.frames.length === 0).toBe(true);
  });

  it('refuse packets moved to another session, signed by a stranger, or of another version', () => {
    const { key, keys } = issuer();
    const encoded = encodeLivePacket(packet(), SESSION, key);
    const other = decodeLivePacket(encoded, 'live-session-02', keys);
    expect(other.ok ? 'ok' : other.reason).toBe('bad_signature');
    const stranger = decodeLivePacket(encodeLivePacket(packet(), SESSION, issuer().key), SESSION, keys);
    expect(stranger.ok ? 'ok' : stranger.reason).toBe('unknown_key');
    const v2 = Buffer.from(encoded);
    v2[2] = 2;
    const version = decodeLivePacket(v2, SESSION, keys);
    expect(version.ok ? 'ok' : version.reason).toBe('unsupported_version');
  });

  it('refuse every single-byte change', () => {
    const { key, keys } = issuer();
    const encoded = encodeLivePacket(packet(), SESSION, key);
    for (let i = 0; i < encoded.length; i++) {
      const mutated = Buffer.from(encoded);
      mutated[i] = ((mutated[i] as number) + 1) % 256;
      expect(decodeLivePacket(mutated, SESSION, keys).ok, `byte ${i}`).toBe(false);
    }
  });

  it('never throw on random or truncated bytes', () => {
    const { key, keys } = issuer();
    const encoded = encodeLivePacket(packet(), SESSION, key);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.nat({ max: encoded.length - 1 }).map((n) => encoded.subarray(0, n)),
        ),
        (bytes) => {
          expect(decodeLivePacket(bytes, SESSION, keys).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuse to encode what a receiver could not decode', () => {
    const { key } = issuer();
    expect(() => encodeLivePacket(packet({ seq: -1 }), SESSION, key)).toThrow(/seq/);
    expect(() => encodeLivePacket(packet({ frames: [new Uint8Array(2000)] }), SESSION, key)).toThrow(/frame size/);
    expect(() => encodeLivePacket(packet({ frameMs: 25 as 20 }), SESSION, key)).toThrow(/frameMs/);
    expect(() => encodeLivePacket(packet(), 'bad/session', key)).toThrow(/session/);
  });
});
