import { Type } from '@sinclair/typebox';

/** Hardware and software faults a receiver latches and reports. */
export const FAULT_CODES = [
  'mains_power_lost',
  'battery_low',
  'amplifier_fault',
  'speaker_line_open',
  'speaker_line_short',
  'audio_device_error',
  'storage_error',
  'storage_full',
  'clock_unsynced',
  'modem_error',
  'overheat',
  'failed_to_sound',
] as const;
export type FaultCode = (typeof FAULT_CODES)[number];

export const FaultCodeSchema = Type.Union(
  FAULT_CODES.map((c) => Type.Literal(c)),
  { title: 'FaultCode' },
);
