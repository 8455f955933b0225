import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mosquitto's password-file hash ("$7$": PBKDF2-SHA512), written by hand because no
 * npm library produces it; the format is what mosquitto_passwd writes:
 * `$7$<iterations>$<base64 salt>$<base64 hash>`. Receiver passwords are 256-bit random
 * tokens, so the iteration count guards nothing a guess could reach; we keep Mosquitto's
 * default, which also keeps a fleet's reconnect storm cheap for the broker.
 */
const ITERATIONS = 101;

export function hashMosquittoPassword(password: string, salt = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyMosquittoPassword(stored: string, password: string): boolean {
  const m = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[3] as string, 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(m[2] as string, 'base64'), Number(m[1]), expected.length, 'sha512');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
