import { type Static, Type } from '@sinclair/typebox';

/**
 * What the controller's WebSocket `/events` sends the dashboard: one JSON object per
 * message. It crosses a wire (controller → browser), so it is declared here, beside the
 * MQTT contract; the controller publishes these and the dashboard reads them.
 */
const at = Type.String({ format: 'date-time' });

export const AudioJobStateSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('active'),
  Type.Literal('completed'),
  Type.Literal('refused'),
  Type.Literal('failed'),
]);
export type AudioJobState = Static<typeof AudioJobStateSchema>;

/** An audio job's account, as GET /audio-jobs/{id} answers it and the WebSocket sends it. */
export const AudioJobViewSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('upload'), Type.Literal('speech-variant'), Type.Literal('speech-preview')]),
  state: AudioJobStateSchema,
  stage: Type.Union([Type.String(), Type.Null()]),
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  sha256: Type.Union([Type.String(), Type.Null()]),
  /** For refused jobs: why (AudioRefusal reason) and the whole account. */
  reason: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});
export type AudioJobView = Static<typeof AudioJobViewSchema>;

export const FleetEventSchema = Type.Union([
  /** An audio job's progress, sent to the user who started it (or to all, for system work). */
  Type.Object({
    type: Type.Literal('audio.job'),
    userId: Type.Union([Type.String(), Type.Null()]),
    job: AudioJobViewSchema,
    at,
  }),
  Type.Object({ type: Type.Literal('receiver.online'), receiverId: Type.String(), online: Type.Boolean(), at }),
  Type.Object({
    type: Type.Literal('delivery.state'),
    receiverId: Type.String(),
    occurrenceId: Type.String(),
    state: Type.String(),
    at,
  }),
  Type.Object({
    type: Type.Literal('delivery.acknowledged'),
    receiverId: Type.String(),
    commandId: Type.String(),
    deliveries: Type.Integer(),
    at,
  }),
  Type.Object({
    type: Type.Literal('alert.delivery'),
    alertId: Type.String(),
    receiverId: Type.String(),
    state: Type.String(),
    escalated: Type.Optional(Type.Literal(true)),
    at,
  }),
  /**
   * An alert was drafted, approved, issued, updated or cancelled (by anyone): sent to
   * every emergency user and admin, who re-read the alerts they may see through the API
   * (the event names no content, so it needs no area scope).
   */
  Type.Object({ type: Type.Literal('alert.changed'), alertId: Type.Union([Type.String(), Type.Null()]), at }),
  Type.Object({
    type: Type.Literal('live.delivery'),
    sessionId: Type.String(),
    receiverId: Type.String(),
    state: Type.String(),
    at,
  }),
  Type.Object({
    type: Type.Literal('receiver.fault'),
    receiverId: Type.String(),
    code: Type.String(),
    state: Type.Union([Type.Literal('raised'), Type.Literal('cleared')]),
    at,
  }),
]);
/** What the dashboard sees change live. Each names its receiver (the hub adds scope) or its user. */
export type FleetEvent = Static<typeof FleetEventSchema>;
export type AudioJobEvent = Extract<FleetEvent, { type: 'audio.job' }>;
/** The first message on the socket: who it serves. */
export interface EventsHello {
  type: 'hello';
  username: string;
}
