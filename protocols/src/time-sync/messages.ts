import { type Static, Type } from '@sinclair/typebox';
import { NONCE_PATTERN, ReceiverId, VersionField } from '../messages/common.js';
import { SignatureFields } from '../signing/signature-fields.js';

/**
 * NTP-style exchange kept apart from control (as in Snapcast): the receiver sends t0
 * (its clock), the controller answers with t1 (receipt) and t2 (sending) in its clock;
 * the receiver notes t3. offset = ((t1 - t0) + (t2 - t3)) / 2, delay = (t3 - t0) - (t2 - t1).
 * The answer is signed and bound to the receiver's random nonce, so it is fresh by
 * construction and needs no clock to verify: a receiver whose clock is wrong can trust it.
 */
export const TimeRequest = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    nonce: Type.String({ pattern: NONCE_PATTERN }),
    t0: Type.Number({ minimum: 0 }),
  },
  { $id: 'TimeRequest', additionalProperties: false },
);

export const TimeResponse = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    nonce: Type.String({ pattern: NONCE_PATTERN }),
    t0: Type.Number({ minimum: 0 }),
    t1: Type.Number({ minimum: 0 }),
    t2: Type.Number({ minimum: 0 }),
    ...SignatureFields,
  },
  { $id: 'TimeResponse', additionalProperties: false },
);

export type TimeRequest = Static<typeof TimeRequest>;
export type TimeResponse = Static<typeof TimeResponse>;

/** Clock offset (controller minus receiver) and round-trip delay from one exchange. */
export function clockOffset(t0: number, t1: number, t2: number, t3: number): { offsetMs: number; delayMs: number } {
  return { offsetMs: (t1 - t0 + (t2 - t3)) / 2, delayMs: t3 - t0 - (t2 - t1) };
}
