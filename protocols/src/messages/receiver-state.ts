import { type Static, Type } from '@sinclair/typebox';
import { ReceiverId, UnixMs, VersionField } from './common.js';

/**
 * Retained on the receiver's state topic. The receiver publishes online=true after
 * connecting and registers online=false (reason `last_will`) as its MQTT last will, so
 * the broker announces its disappearance. For a last will, `at` is when the will was
 * registered; consumers use their own receive time.
 */
export const ReceiverState = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    online: Type.Boolean(),
    at: UnixMs,
    reason: Type.Union([
      Type.Literal('connected'),
      Type.Literal('shutdown'),
      Type.Literal('last_will'),
      Type.Literal('rebooting'),
    ]),
    agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
    bootId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { $id: 'ReceiverState', additionalProperties: false },
);
export type ReceiverState = Static<typeof ReceiverState>;

/** The receiver's newest log lines (structured JSON lines), answering a device.logs command. */
export const ReceiverLogs = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    at: UnixMs,
    commandId: Type.String({ maxLength: 64 }),
    lines: Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 2000 }),
  },
  { $id: 'ReceiverLogs', additionalProperties: false },
);
export type ReceiverLogs = Static<typeof ReceiverLogs>;
