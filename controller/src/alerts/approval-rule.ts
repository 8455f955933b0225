import type { AlertStatus } from '@loa/protocols';
import type { AreaLevel } from '../generated/prisma/client.js';

/**
 * When an alert needs a second authorised person before it may be issued
 * (ALERT_APPROVAL): `actual-district` (default) for Actual alerts aimed at a district or
 * the province, `actual` for every Actual alert, `always` for all (Exercise and Test too),
 * `never`. Hawaii 2018: one person, one click, a false missile alert to a whole state.
 */
export const APPROVAL_RULES = ['actual-district', 'actual', 'always', 'never'] as const;
export type ApprovalRule = (typeof APPROVAL_RULES)[number];

export function needsApproval(rule: ApprovalRule, status: AlertStatus, levels: readonly AreaLevel[]): boolean {
  switch (rule) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'actual':
      return status === 'Actual';
    case 'actual-district':
      return status === 'Actual' && levels.some((l) => l === 'province' || l === 'district');
  }
}
