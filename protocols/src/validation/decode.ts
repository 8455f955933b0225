import type { Static, TSchema } from '@sinclair/typebox';
import { type Validated, type ValidationIssue, validate } from './validate.js';

/** Default upper bound for one JSON message on the wire. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

export interface DecodeOptions {
  maxBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(message: string): { ok: false; errors: ValidationIssue[] } {
  return { ok: false, errors: [{ path: '', message }] };
}

/** Parses a UTF-8 JSON payload with a size limit. Never throws. */
export function parseJsonPayload(payload: Uint8Array | string, options: DecodeOptions = {}): Validated<unknown> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes) return fail(`message is ${size} bytes, more than the limit of ${maxBytes}`);
  if (size === 0) return fail('message is empty');
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : utf8.decode(payload);
  } catch {
    return fail('message is not valid UTF-8');
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return fail(`message is not valid JSON: ${(error as Error).message}`);
  }
}

/** Parses and validates one JSON message against a schema. Never throws. */
export function decodeMessage<T extends TSchema>(
  schema: T,
  payload: Uint8Array | string,
  options: DecodeOptions = {},
): Validated<Static<T>> {
  const parsed = parseJsonPayload(payload, options);
  if (!parsed.ok) return parsed;
  return validate(schema, parsed.value);
}
