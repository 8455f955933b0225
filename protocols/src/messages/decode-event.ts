import { type DecodeOptions, parseJsonPayload } from '../validation/decode.js';
import { type Validated, validate } from '../validation/validate.js';
import { EVENT_SCHEMAS, type ReceiverEvent } from './events.js';

/**
 * Decodes a receiver event by its `type` tag, so errors name the problem in that type
 * rather than listing why the payload fails every union branch. Never throws.
 */
export function decodeReceiverEvent(payload: Uint8Array | string, options?: DecodeOptions): Validated<ReceiverEvent> {
  const parsed = parseJsonPayload(payload, options);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ path: '', message: 'message must be a JSON object' }] };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(EVENT_SCHEMAS, type)) {
    const known = Object.keys(EVENT_SCHEMAS).join(', ');
    return { ok: false, errors: [{ path: '/type', message: `/type must be one of ${known}` }] };
  }
  return validate(EVENT_SCHEMAS[type as keyof typeof EVENT_SCHEMAS], value) as Validated<ReceiverEvent>;
}
