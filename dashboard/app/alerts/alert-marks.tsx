import type { Hazard } from '@loa/protocols';
import { useTranslation } from 'react-i18next';
import { type Alert, type AlertStatus, waitsForApproval } from './alert-api.ts';

export const RISK_LEVELS = [1, 2, 3, 4, 5] as const;
export type Level = (typeof RISK_LEVELS)[number];
export const asLevel = (n: number): Level => (RISK_LEVELS.includes(n as Level) ? (n as Level) : 3);

/** The risk level in its colour (--risk-N) and in words: "Cấp 4 — Rủi ro rất lớn". */
export function RiskBadge({ level, compact = false }: { level: number; compact?: boolean }) {
  const { t } = useTranslation('alerts');
  const l = asLevel(level);
  return (
    <span className={`risk-badge risk-${l}`}>
      {compact ? t('riskShort', { level: l }) : t('riskFull', { level: l, name: t(`riskName${l}`) })}
    </span>
  );
}

export function HazardName({ hazard }: { hazard: string }) {
  const { t } = useTranslation('alerts');
  return <>{t(`hazard_${hazard as Hazard}`, { defaultValue: hazard })}</>;
}

/**
 * An Exercise or Test is marked by a striped banner that cannot be mistaken for a real
 * alert (Hawaii 2018: the drill and the real thing looked alike). Actual alerts get none.
 */
export function StatusBanner({ status }: { status: AlertStatus }) {
  const { t } = useTranslation('alerts');
  if (status === 'Actual') return null;
  return (
    <p className={`status-banner status-${status.toLowerCase()}`} role="note">
      <strong>{status === 'Exercise' ? t('bannerExercise') : t('bannerTest')}</strong>
      <span>{t('bannerNotReal')}</span>
    </p>
  );
}

/** The compact form of the marking, for lists and the alert bar. */
export function StatusMark({ status }: { status: AlertStatus }) {
  const { t } = useTranslation('alerts');
  if (status === 'Actual') return <span className="status-mark status-actual">{t('statusActual')}</span>;
  return (
    <span className={`status-mark status-${status.toLowerCase()}`}>
      {status === 'Exercise' ? t('bannerExercise') : t('bannerTest')}
    </span>
  );
}

/** The alert's state in words; a draft waiting for its second person says so. */
export function StateBadge({ alert }: { alert: Pick<Alert, 'state' | 'needsApproval' | 'approved'> }) {
  const { t } = useTranslation('alerts');
  if (waitsForApproval(alert)) return <span className="alert-state alert-state-waiting">{t('stateWaiting')}</span>;
  if (alert.state === 'draft' && alert.needsApproval && alert.approved)
    return <span className="alert-state alert-state-approved">{t('stateApproved')}</span>;
  return <span className={`alert-state alert-state-${alert.state}`}>{t(`state_${alert.state}`)}</span>;
}

/** The alert's words in the UI language where it has them, else Vietnamese, else any. */
export function textOf(texts: Record<string, string> | undefined, language: 'vi' | 'en'): string {
  if (!texts) return '';
  return (language === 'en' ? texts.eng : undefined) ?? texts.vie ?? Object.values(texts)[0] ?? '';
}
