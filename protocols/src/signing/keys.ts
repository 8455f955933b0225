import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { validate } from '../validation/validate.js';

const B64URL = '^[A-Za-z0-9_-]+$';

/** An Ed25519 private key as a JWK (RFC 8037), the form stored in key files. */
export const PrivateKeyJwk = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ pattern: B64URL, minLength: 43, maxLength: 43 }),
    d: Type.String({ pattern: B64URL, minLength: 43, maxLength: 43 }),
    kid: Type.Optional(Type.String()),
  },
  { $id: 'PrivateKeyJwk' },
);
export type PrivateKeyJwk = Static<typeof PrivateKeyJwk>;

/**
 * A public key a receiver trusts. Several can be trusted at once for rotation: add the
 * new key everywhere first, then sign with it, then retire the old one (notAfter or
 * revoked).
 */
export const TrustedKey = Type.Object(
  {
    keyId: Type.String(),
    x: Type.String({ pattern: B64URL, minLength: 43, maxLength: 43, description: 'Ed25519 public key, base64url' }),
    notBefore: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms; commands issued earlier are refused' })),
    notAfter: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms; commands issued later are refused' })),
    revoked: Type.Optional(Type.Boolean()),
  },
  { $id: 'TrustedKey', additionalProperties: false },
);
export type TrustedKey = Static<typeof TrustedKey>;

/** RFC 7638 JWK thumbprint: the key id is derived from the key, so it cannot lie. */
export function keyIdOf(x: string): string {
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function generateSigningKey(): PrivateKeyJwk {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid: keyIdOf(jwk.x) };
}

export function trustedKeyFor(key: PrivateKeyJwk, extra: Partial<TrustedKey> = {}): TrustedKey {
  return { keyId: keyIdOf(key.x), x: key.x, ...extra };
}

/** A private key ready to sign, with its id. Throws on a malformed or mismatched key. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

export function loadSigningKey(jwk: unknown): SigningKey {
  const checked = validate(PrivateKeyJwk, jwk);
  if (!checked.ok) throw new Error(`invalid signing key: ${checked.errors.map((e) => e.message).join('; ')}`);
  const key = checked.value;
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x, d: key.d }, format: 'jwk' });
  const derivedX = (createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }).x;
  if (derivedX !== key.x) throw new Error('invalid signing key: public part does not match private part');
  const keyId = keyIdOf(key.x);
  if (key.kid !== undefined && key.kid !== keyId)
    throw new Error(`invalid signing key: kid is not the key's thumbprint ${keyId}`);
  return { keyId, privateKey };
}

/** The trusted-key entry receivers need for a signing key (its public half). */
export function publicEntryOf(key: SigningKey): TrustedKey {
  const x = (createPublicKey(key.privateKey).export({ format: 'jwk' }) as { x: string }).x;
  return { keyId: key.keyId, x };
}

/** The trusted keys of a verifier, with their node:crypto objects prepared once. */
export class TrustedKeySet {
  readonly #keys = new Map<string, { key: TrustedKey; publicKey: KeyObject }>();

  constructor(keys: readonly TrustedKey[]) {
    for (const key of keys) {
      const checked = validate(TrustedKey, key);
      if (!checked.ok) throw new Error(`invalid trusted key: ${checked.errors.map((e) => e.message).join('; ')}`);
      if (keyIdOf(key.x) !== key.keyId) throw new Error(`trusted key ${key.keyId}: keyId is not the key's thumbprint`);
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' });
      this.#keys.set(key.keyId, { key, publicKey });
    }
  }

  /** The key to verify with, if it is trusted for a document issued at `issuedAt`. */
  lookup(keyId: string, issuedAt?: number): KeyObject | undefined {
    const entry = this.#keys.get(keyId);
    if (!entry || entry.key.revoked) return undefined;
    if (issuedAt !== undefined) {
      if (entry.key.notBefore !== undefined && issuedAt < entry.key.notBefore) return undefined;
      if (entry.key.notAfter !== undefined && issuedAt > entry.key.notAfter) return undefined;
    }
    return entry.publicKey;
  }

  get size(): number {
    return this.#keys.size;
  }
}
