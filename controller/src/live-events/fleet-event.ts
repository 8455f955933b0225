import type { AudioJobView } from '../audio/audio-work.js';

/** An audio job's progress, sent to the user who started it (or to all, for system work). */
export interface AudioJobEvent {
  type: 'audio.job';
  userId: string | null;
  job: AudioJobView;
  at: string;
}

/** What the dashboard sees change live. Each names its receiver (the hub adds scope) or its user. */
export type FleetEvent =
  | AudioJobEvent
  | { type: 'receiver.online'; receiverId: string; online: boolean; at: string }
  | { type: 'delivery.state'; receiverId: string; occurrenceId: string; state: string; at: string }
  | { type: 'delivery.acknowledged'; receiverId: string; commandId: string; deliveries: number; at: string }
  | { type: 'alert.delivery'; alertId: string; receiverId: string; state: string; escalated?: true; at: string }
  | { type: 'live.delivery'; sessionId: string; receiverId: string; state: string; at: string }
  | { type: 'receiver.fault'; receiverId: string; code: string; state: 'raised' | 'cleared'; at: string };
