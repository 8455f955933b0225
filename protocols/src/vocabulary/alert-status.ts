import { Type } from '@sinclair/typebox';

/** CAP 1.2 status values an alert can carry on the wire (Draft and System stay home). */
export const ALERT_STATUSES = ['Actual', 'Exercise', 'Test'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const AlertStatusSchema = Type.Union(
  ALERT_STATUSES.map((s) => Type.Literal(s)),
  { title: 'AlertStatus', description: 'Actual, Exercise or Test; receivers announce the latter two as such' },
);
