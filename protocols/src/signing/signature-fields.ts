import { Type } from '@sinclair/typebox';
import { KEY_ID_PATTERN } from '../messages/common.js';

/** Ed25519 signature in unpadded base64url: 64 bytes are exactly 86 characters. */
export const SIGNATURE_PATTERN = '^[A-Za-z0-9_-]{85}[AQgw]$';

/** The two fields a signed JSON document adds to its content. */
export const SignatureFields = {
  keyId: Type.String({ pattern: KEY_ID_PATTERN, description: 'Signing key id (RFC 7638 JWK thumbprint)' }),
  sig: Type.String({
    pattern: SIGNATURE_PATTERN,
    description: 'Ed25519 signature over the RFC 8785 canonical JSON of the document without `sig`',
  }),
};
