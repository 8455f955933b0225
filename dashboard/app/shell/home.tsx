import type { ParseKeys } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { hasRole, type Role, useMe } from './session.tsx';

const TILES: ReadonlyArray<{ to: string; label: ParseKeys<'shell'>; hint: ParseKeys<'shell'>; roles: Role[] }> = [
  { to: '/schedule', label: 'navSchedule', hint: 'homeScheduleHint', roles: ['official'] },
  { to: '/alerts', label: 'navAlerts', hint: 'homeAlertsHint', roles: ['emergency'] },
  { to: '/fleet', label: 'navFleet', hint: 'homeFleetHint', roles: ['technician'] },
  { to: '/live', label: 'navLive', hint: 'homeLiveHint', roles: ['official', 'emergency'] },
];

/** The home page: the work of the user's roles, in their scope. */
export function Home() {
  const { t } = useTranslation();
  const me = useMe();
  return (
    <section>
      <h1>{t('welcome', { name: me.displayName })}</h1>
      <p>{t('homeIntro')}</p>
      <ul className="tiles">
        {TILES.filter((tile) => hasRole(me, ...tile.roles)).map((tile) => (
          <li key={tile.to}>
            <Link to={tile.to}>
              <strong>{t(tile.label)}</strong>
              <span>{t(tile.hint)}</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
