// The events' shapes are part of the wire contract (controller → dashboard), in protocols.
export type { AudioJobEvent, FleetEvent } from '@loa/protocols';
