import { Type } from '@sinclair/typebox';

/**
 * Why a receiver refused a command. Every refusal carries exactly one of these, is
 * reported on the receiver's events topic, and is never acted on.
 */
export const REFUSAL_REASONS = [
  'too_large', // payload exceeds the size limit before parsing
  'malformed', // not JSON, or not a command envelope
  'unsupported_version', // envelope version this receiver does not speak
  'unknown_key', // keyId not among the trusted keys (or key revoked / outside its validity)
  'bad_signature', // signature does not verify over the canonical form
  'not_yet_valid', // now < notBefore (beyond the allowed clock skew)
  'expired', // now >= expiresAt (beyond the allowed clock skew)
  'issued_in_future', // issuedAt later than now + skew: a clock problem or a forgery
  'lifetime_too_long', // expiresAt - issuedAt beyond the maximum lifetime
  'wrong_target', // the command addresses another receiver or an area it is not in
  'wrong_topic', // target and the topic it arrived on disagree
  'replayed', // id or (issuer, seq) seen before
  'stale_sequence', // seq older than the replay window: cannot prove it is fresh
  'invalid_body', // signed and fresh, but the body does not match its kind's schema
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const RefusalReasonSchema = Type.Union(
  REFUSAL_REASONS.map((r) => Type.Literal(r)),
  { title: 'RefusalReason' },
);
