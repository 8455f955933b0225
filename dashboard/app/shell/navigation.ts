import type { ParseKeys } from 'i18next';
import type { Role } from './session.tsx';

/** The menu: each entry for the roles whose work it is (admins see everything). */
export const NAVIGATION: ReadonlyArray<{ to: string; label: ParseKeys<'shell'>; roles: Role[] }> = [
  { to: '/schedule', label: 'navSchedule', roles: ['official', 'emergency'] },
  { to: '/announcements/new', label: 'navNewAnnouncement', roles: ['official', 'emergency'] },
  { to: '/proof-of-play', label: 'navProofOfPlay', roles: ['official', 'emergency', 'technician'] },
  { to: '/alerts', label: 'navAlerts', roles: ['emergency'] },
  { to: '/cap', label: 'navCapInbox', roles: ['emergency'] },
  { to: '/fleet', label: 'navFleet', roles: ['technician', 'emergency', 'official'] },
  { to: '/live', label: 'navLive', roles: ['official', 'emergency'] },
];

export const ROLE_LABEL: Record<Role, ParseKeys<'shell'>> = {
  admin: 'roleAdmin',
  official: 'roleOfficial',
  emergency: 'roleEmergency',
  technician: 'roleTechnician',
};
