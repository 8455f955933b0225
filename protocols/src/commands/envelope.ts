import { type Static, Type } from '@sinclair/typebox';
import { AreaCode, ISSUER_PATTERN, ReceiverId, UnixMs, Uuid, VersionField } from '../messages/common.js';
import { SignatureFields } from '../signing/signature-fields.js';
import { AreaLevelSchema } from '../vocabulary/area-levels.js';
import { COMMAND_KINDS } from './bodies.js';

export const ReceiverTarget = Type.Object(
  { type: Type.Literal('receiver'), receiverId: ReceiverId },
  { additionalProperties: false },
);
export const AreaTarget = Type.Object(
  { type: Type.Literal('area'), level: AreaLevelSchema, areaCode: AreaCode },
  { additionalProperties: false },
);
export const CommandTarget = Type.Union([ReceiverTarget, AreaTarget], { title: 'CommandTarget' });
export type CommandTarget = Static<typeof CommandTarget>;

/**
 * The signed command envelope. Receivers act on nothing else. The signature covers the
 * RFC 8785 canonical JSON of every field but `sig`; freshness comes from the validity
 * window, and replay protection from `id` and the issuer's monotonic `seq`.
 */
export const CommandEnvelope = Type.Object(
  {
    v: VersionField,
    id: Uuid,
    iss: Type.String({ pattern: ISSUER_PATTERN, description: 'Issuer (a controller deployment)' }),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Monotonic per issuer' }),
    issuedAt: UnixMs,
    notBefore: UnixMs,
    expiresAt: UnixMs,
    target: CommandTarget,
    kind: Type.Union(COMMAND_KINDS.map((k) => Type.Literal(k))),
    body: Type.Object({}, { additionalProperties: true, description: "Validated against the kind's schema" }),
    ...SignatureFields,
  },
  { $id: 'CommandEnvelope', additionalProperties: false },
);
export type CommandEnvelope = Static<typeof CommandEnvelope>;
