import { PROTOCOL_VERSION } from '../messages/common.js';
import type { SigningKey, TrustedKeySet } from '../signing/keys.js';
import { checkDocumentSignature, signDocument } from '../signing/signed-document.js';
import { decodeMessage } from '../validation/decode.js';
import { formatIssues } from '../validation/validate.js';
import { type TimeRequest, TimeResponse } from './messages.js';

/** The controller's signed answer to a time request; t1 = receipt, t2 = now. */
export function answerTimeRequest(
  request: TimeRequest,
  t1: number,
  key: SigningKey,
  now: () => number = Date.now,
): TimeResponse {
  const unsigned = {
    v: PROTOCOL_VERSION,
    receiverId: request.receiverId,
    nonce: request.nonce,
    t0: request.t0,
    t1,
    t2: now(),
  };
  return signDocument(unsigned, key);
}

export type TimeResponseCheck =
  | { ok: true; response: TimeResponse }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_target' | 'replayed'; detail: string };

/**
 * Accepts an answer only if it is signed by a trusted key, for this receiver, and
 * echoes a nonce still pending (each nonce is answered once). Needs no clock, so it
 * works on a receiver whose clock is wrong. Never throws.
 */
export function checkTimeResponse(
  payload: Uint8Array | string,
  expect: { keys: TrustedKeySet; receiverId: string; pendingNonces: Set<string> },
): TimeResponseCheck {
  const decoded = decodeMessage(TimeResponse, payload, { maxBytes: 4096 });
  if (!decoded.ok) return { ok: false, reason: 'malformed', detail: formatIssues(decoded.errors) };
  const response = decoded.value;
  const signature = checkDocumentSignature(response, expect.keys);
  if (signature !== 'ok') return { ok: false, reason: signature, detail: `key ${response.keyId}` };
  if (response.receiverId !== expect.receiverId)
    return { ok: false, reason: 'wrong_target', detail: response.receiverId };
  if (!expect.pendingNonces.delete(response.nonce))
    return { ok: false, reason: 'replayed', detail: 'nonce not pending' };
  return { ok: true, response };
}
