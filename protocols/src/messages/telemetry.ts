import { type Static, Type } from '@sinclair/typebox';
import { PrioritySchema } from '../vocabulary/priorities.js';
import { ItemId, ReceiverId, UnixMs, VersionField, Volume } from './common.js';
import { FaultCodeSchema } from './faults.js';

/** Periodic health report; also the receiver's heartbeat (presence). */
export const Telemetry = Type.Object(
  {
    v: VersionField,
    receiverId: ReceiverId,
    at: UnixMs,
    uptimeS: Type.Integer({ minimum: 0 }),
    agentVersion: Type.String({ maxLength: 64 }),
    firmware: Type.Optional(Type.String({ maxLength: 64 })),
    power: Type.Object(
      {
        mains: Type.Boolean(),
        batteryPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
        batteryV: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
      },
      { additionalProperties: false },
    ),
    network: Type.Object(
      {
        type: Type.Union(['2g', '3g', '4g', '5g', 'ethernet', 'wifi', 'unknown'].map((t) => Type.Literal(t))),
        rssiDbm: Type.Optional(Type.Number({ minimum: -150, maximum: 0 })),
        operator: Type.Optional(Type.String({ maxLength: 64 })),
      },
      { additionalProperties: false },
    ),
    audio: Type.Object(
      {
        volume: Volume,
        amplifierOn: Type.Boolean(),
        speakerLineOhm: Type.Optional(Type.Number({ minimum: 0, maximum: 100000 })),
      },
      { additionalProperties: false },
    ),
    playing: Type.Union([
      Type.Null(),
      Type.Object({ itemId: ItemId, priority: PrioritySchema }, { additionalProperties: false }),
    ]),
    cache: Type.Object(
      {
        assets: Type.Integer({ minimum: 0 }),
        bytesUsed: Type.Integer({ minimum: 0 }),
        bytesFree: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    clock: Type.Object(
      {
        synced: Type.Boolean(),
        offsetMs: Type.Number({ description: 'Estimated controller time minus local time' }),
      },
      { additionalProperties: false },
    ),
    temperatureC: Type.Optional(Type.Number({ minimum: -60, maximum: 150 })),
    faults: Type.Array(FaultCodeSchema, { maxItems: 32, description: 'Faults currently latched' }),
    scheduleVersion: Type.Optional(Type.Integer({ minimum: 0 })),
    intervalS: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 86_400,
        description:
          'Seconds until the next report (the heartbeat period): the controller waits 2.5 of them before calling the receiver offline',
      }),
    ),
  },
  { $id: 'Telemetry', additionalProperties: false },
);
export type Telemetry = Static<typeof Telemetry>;
