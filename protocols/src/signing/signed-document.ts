import { sign, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { SigningKey, TrustedKeySet } from './keys.js';

/** The bytes that are signed: RFC 8785 canonical JSON of the document without `sig`. */
export function signingInput(document: object): Buffer {
  const { sig: _sig, ...content } = document as { sig?: unknown };
  const canonical = canonicalize(content);
  if (canonical === undefined) throw new Error('document cannot be canonicalised');
  return Buffer.from(canonical, 'utf8');
}

/** Adds `keyId` and an Ed25519 `sig` to a JSON document. */
export function signDocument<T extends object>(document: T, key: SigningKey): T & { keyId: string; sig: string } {
  const withKey = { ...document, keyId: key.keyId };
  const sig = sign(null, signingInput(withKey), key.privateKey).toString('base64url');
  return { ...withKey, sig };
}

export type SignatureCheck = 'ok' | 'unknown_key' | 'bad_signature';

/**
 * Checks a document's signature. The caller has validated its shape (so `sig` is 86
 * canonical base64url characters and `keyId` a string). Never throws.
 */
export function checkDocumentSignature(
  document: { keyId: string; sig: string },
  keys: TrustedKeySet,
  issuedAt?: number,
): SignatureCheck {
  const publicKey = keys.lookup(document.keyId, issuedAt);
  if (!publicKey) return 'unknown_key';
  const signature = Buffer.from(document.sig, 'base64url');
  // Node's base64 decoder skips characters it does not know: insist on the exact form.
  if (signature.length !== 64 || signature.toString('base64url') !== document.sig) return 'bad_signature';
  try {
    return verify(null, signingInput(document), publicKey, signature) ? 'ok' : 'bad_signature';
  } catch {
    // canonicalize refuses lone surrogates and the like: such a document was never signed.
    return 'bad_signature';
  }
}
