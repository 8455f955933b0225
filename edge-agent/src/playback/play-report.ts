import type { PlayEvent } from '@loa/protocols';

/** A proof-of-play report as the engine makes it (the agent adds v, eventId, receiverId, at). */
export type PlayReport = Omit<PlayEvent, 'v' | 'eventId' | 'receiverId' | 'at'>;
export type PlaySource = PlayEvent['source'];
