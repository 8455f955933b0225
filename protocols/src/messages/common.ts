import { Type } from '@sinclair/typebox';

/** Protocol major version carried in every JSON message as `v`. */
export const PROTOCOL_VERSION = 1 as const;
export const VersionField = Type.Literal(PROTOCOL_VERSION, { description: 'Protocol major version' });

/**
 * Identifiers that appear as MQTT topic levels: no '/', '+', '#', NUL or spaces, so a
 * topic built from them always has the intended shape.
 */
export const RECEIVER_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const AREA_CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$';
export const SESSION_ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
export const KEY_ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
export const ISSUER_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,63}$';
export const NONCE_PATTERN = '^[A-Za-z0-9_-]{16,64}$';

export const ReceiverId = Type.String({
  title: 'ReceiverId',
  pattern: RECEIVER_ID_PATTERN,
  description: 'Receiver (loudspeaker cluster) id; also its MQTT client id and username',
});
export const AreaCode = Type.String({
  title: 'AreaCode',
  pattern: AREA_CODE_PATTERN,
  description: 'Administrative area code (official code for province/district/commune)',
});
export const SessionId = Type.String({ title: 'SessionId', pattern: SESSION_ID_PATTERN });
export const Uuid = Type.String({ format: 'uuid', description: 'RFC 9562 UUID' });
export const UnixMs = Type.Integer({
  minimum: 0,
  maximum: 8_640_000_000_000_000,
  description: 'Unix time in milliseconds (UTC)',
});
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' });
export const Volume = Type.Integer({ minimum: 0, maximum: 100, description: 'Volume in percent' });
export const ShortText = Type.String({ maxLength: 500 });
export const ItemId = Type.String({
  pattern: '^[A-Za-z0-9_.:-]{1,128}$',
  description: 'Id of a playable item (occurrence, alert, live session, play-now item)',
});
