import { createHash, randomBytes } from 'node:crypto';

/** A fresh secret token (256 bits) and the hash that is stored in its place. */
export function newToken(prefix: string): { token: string; hash: string } {
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** Tokens are high-entropy, so a plain SHA-256 is enough (no password stretching needed). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
