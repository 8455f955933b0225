import type { TSchema } from '@sinclair/typebox';
import { COMMAND_BODIES } from '../commands/bodies.js';
import { CommandEnvelope } from '../commands/envelope.js';
import { TimeRequest, TimeResponse } from '../time-sync/messages.js';
import { EVENT_SCHEMAS, EventReceipts } from './events.js';
import { ReceiverLogs, ReceiverState } from './receiver-state.js';
import { Telemetry } from './telemetry.js';

/**
 * Every JSON message schema of the wire contract, by $id. The exported JSON Schema
 * files and the AsyncAPI document are generated from this list and nothing else.
 */
export const WIRE_SCHEMAS: Record<string, TSchema> = {
  CommandEnvelope,
  ...Object.fromEntries(Object.values(COMMAND_BODIES).map((s) => [s.$id as string, s])),
  ReceiverState,
  ReceiverLogs,
  Telemetry,
  ...Object.fromEntries(Object.values(EVENT_SCHEMAS).map((s) => [s.$id as string, s])),
  EventReceipts,
  TimeRequest,
  TimeResponse,
};

/** The events union as JSON Schema, by reference to each event's schema. */
export const RECEIVER_EVENT_JSON_SCHEMA = {
  $id: 'ReceiverEvent',
  title: 'ReceiverEvent',
  description: 'One of the receiver events, told apart by `type`',
  oneOf: Object.values(EVENT_SCHEMAS).map((s) => ({ $ref: `${s.$id as string}.json` })),
};
