import { type Static, type TObject, Type } from '@sinclair/typebox';
import { ItemId, SessionId, Sha256Hex, ShortText, UnixMs, Volume } from '../messages/common.js';
import { AlertStatusSchema } from '../vocabulary/alert-status.js';
import { HazardSchema } from '../vocabulary/hazards.js';
import { LanguageCodeSchema } from '../vocabulary/languages.js';
import { PrioritySchema } from '../vocabulary/priorities.js';
import { RiskLevelSchema } from '../vocabulary/risk-levels.js';
import { AssetRef, PlayableItem, ScheduledItem } from './playable.js';

const assets = Type.Array(AssetRef, { maxItems: 2000 });

/**
 * The receiver's schedule for the coming horizon from one target (its own id or one of
 * its areas). A provision replaces the previous provision from the same target if its
 * `revision` is higher; items from other targets are untouched.
 */
export const ScheduleProvisionBody = Type.Object(
  {
    revision: Type.Integer({ minimum: 0 }),
    horizonStart: UnixMs,
    horizonEnd: UnixMs,
    items: Type.Array(ScheduledItem, { maxItems: 5000 }),
    assets,
  },
  { $id: 'ScheduleProvisionBody', additionalProperties: false },
);

/** Air an item at once, subject to priority arbitration. */
export const PlayNowBody = Type.Object(
  { item: PlayableItem, assets },
  { $id: 'PlayNowBody', additionalProperties: false },
);

/** Stop one item, or every item at or below a priority. */
export const StopBody = Type.Object(
  {
    itemId: Type.Optional(ItemId),
    upToPriority: Type.Optional(PrioritySchema),
    reason: Type.Optional(ShortText),
  },
  { $id: 'StopBody', additionalProperties: false },
);

/** A disaster warning. A correction is a new revision that references the original. */
export const AlertIssueBody = Type.Object(
  {
    alertId: ItemId,
    revision: Type.Integer({ minimum: 0 }),
    references: Type.Optional(ItemId),
    status: AlertStatusSchema,
    hazard: HazardSchema,
    riskLevel: RiskLevelSchema,
    priority: PrioritySchema,
    headline: Type.Partial(Type.Record(LanguageCodeSchema, Type.String({ maxLength: 300 }))),
    item: PlayableItem,
    repeat: Type.Optional(
      Type.Object(
        {
          everyS: Type.Integer({ minimum: 60, maximum: 86400 }),
          windowStart: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' })),
          windowEnd: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' })),
        },
        { additionalProperties: false, description: 'Repeat policy; window times are Asia/Ho_Chi_Minh' },
      ),
    ),
    alertExpiresAt: UnixMs,
    maxVolume: Type.Optional(Volume),
    assets,
  },
  { $id: 'AlertIssueBody', additionalProperties: false },
);

/** Cancel an alert everywhere at once; optionally air a prepared cancellation message. */
export const AlertCancelBody = Type.Object(
  {
    alertId: ItemId,
    reason: Type.Optional(ShortText),
    message: Type.Optional(PlayableItem),
    assets: Type.Optional(assets),
  },
  { $id: 'AlertCancelBody', additionalProperties: false },
);

/** Start playing a live session's audio topic. */
export const LiveStartBody = Type.Object(
  {
    sessionId: SessionId,
    priority: PrioritySchema,
    codec: Type.Object(
      {
        name: Type.Literal('opus'),
        sampleRate: Type.Literal(48000),
        channels: Type.Literal(1),
        frameMs: Type.Union([Type.Literal(10), Type.Literal(20), Type.Literal(40), Type.Literal(60)]),
        bitrate: Type.Integer({ minimum: 6000, maximum: 128000 }),
      },
      { additionalProperties: false },
    ),
    latencyMs: Type.Integer({ minimum: 50, maximum: 10000, description: 'Play at capture time + latency' }),
    heartbeatTimeoutMs: Type.Integer({ minimum: 500, maximum: 60000 }),
    prelude: Type.Union([Type.Literal('none'), Type.Literal('chime')]),
    preludeSha256: Type.Optional(Sha256Hex),
    volume: Volume,
    language: Type.Optional(LanguageCodeSchema),
    assets: Type.Optional(assets),
  },
  { $id: 'LiveStartBody', additionalProperties: false },
);

export const LiveStopBody = Type.Object(
  { sessionId: SessionId, reason: Type.Optional(ShortText) },
  { $id: 'LiveStopBody', additionalProperties: false },
);

export const DeviceVolumeBody = Type.Object(
  { volume: Volume },
  { $id: 'DeviceVolumeBody', additionalProperties: false },
);

/** Silent test: self-check without sound (amplifier, line). Audible: a short tone. */
export const DeviceTestBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('silent'), Type.Literal('audible')]),
    toneSha256: Type.Optional(Sha256Hex),
    assets: Type.Optional(assets),
  },
  { $id: 'DeviceTestBody', additionalProperties: false },
);

export const DeviceRebootBody = Type.Object(
  { reason: Type.Optional(ShortText) },
  { $id: 'DeviceRebootBody', additionalProperties: false },
);

export const DeviceUpdateBody = Type.Object(
  {
    version: Type.String({ maxLength: 64 }),
    url: Type.String({ maxLength: 2048 }),
    sha256: Sha256Hex,
    bytes: Type.Integer({ minimum: 1 }),
  },
  { $id: 'DeviceUpdateBody', additionalProperties: false },
);

export const DeviceConfigBody = Type.Object(
  {
    telemetryIntervalS: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600 })),
    cacheLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 * 1024 })),
  },
  { $id: 'DeviceConfigBody', additionalProperties: false },
);

/** Re-read the stored schedule and re-check every cached asset (fetching what is missing or damaged). */
export const DeviceReloadBody = Type.Object(
  { reason: Type.Optional(ShortText) },
  { $id: 'DeviceReloadBody', additionalProperties: false },
);

/** Send the newest log lines on the receiver's logs topic. */
export const DeviceLogsBody = Type.Object(
  { maxLines: Type.Integer({ minimum: 1, maximum: 2000, default: 500 }) },
  { $id: 'DeviceLogsBody', additionalProperties: false },
);

/** Every command kind and the schema of its body. */
export const COMMAND_BODIES = {
  'schedule.provision': ScheduleProvisionBody,
  'play.now': PlayNowBody,
  stop: StopBody,
  'alert.issue': AlertIssueBody,
  'alert.cancel': AlertCancelBody,
  'live.start': LiveStartBody,
  'live.stop': LiveStopBody,
  'device.volume': DeviceVolumeBody,
  'device.test': DeviceTestBody,
  'device.reboot': DeviceRebootBody,
  'device.update': DeviceUpdateBody,
  'device.config': DeviceConfigBody,
  'device.reload': DeviceReloadBody,
  'device.logs': DeviceLogsBody,
} as const satisfies Record<string, TObject>;

export type CommandKind = keyof typeof COMMAND_BODIES;
export const COMMAND_KINDS = Object.keys(COMMAND_BODIES) as CommandKind[];
export type CommandBody<K extends CommandKind> = Static<(typeof COMMAND_BODIES)[K]>;
