import { type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { AlertBar } from '../alerts/alert-bar.tsx';
import { useEventsState } from '../api/events.tsx';
import { LanguageSwitch } from './language-switch.tsx';
import { NAVIGATION, ROLE_LABEL } from './navigation.ts';
import { hasRole, useMe, useSession } from './session.tsx';

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const me = useMe();
  const { signOut } = useSession();
  const events = useEventsState();
  const [menuOpen, setMenuOpen] = useState(false);
  const entries = NAVIGATION.filter((entry) => hasRole(me, ...entry.roles));
  const eventsLabel =
    events === 'open' ? t('eventsOpen') : events === 'connecting' ? t('eventsConnecting') : t('eventsClosed');
  return (
    <>
      <a className="skip-link" href="#content">
        {t('skipToContent')}
      </a>
      <header className="top-bar">
        <NavLink to="/" className="brand">
          {t('appName')}
        </NavLink>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-menu"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {t('menu')}
        </button>
        <nav aria-label={t('menu')} id="main-menu" className={menuOpen ? 'menu open' : 'menu'}>
          <ul>
            <li>
              <NavLink to="/" end onClick={() => setMenuOpen(false)}>
                {t('home')}
              </NavLink>
            </li>
            {entries.map((entry) => (
              <li key={entry.to}>
                <NavLink to={entry.to} end onClick={() => setMenuOpen(false)}>
                  {t(entry.label)}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <span className={`events-state events-${events}`} role="status" title={eventsLabel}>
            {eventsLabel}
          </span>
          <span className="who">
            {me.displayName}
            <small>
              {me.grants.map((g) => t('grantIn', { role: t(ROLE_LABEL[g.role]), area: g.areaCode })).join(', ')}
            </small>
          </span>
          <LanguageSwitch />
          <button type="button" onClick={() => void signOut()}>
            {t('signOut')}
          </button>
        </div>
      </header>
      {hasRole(me, 'emergency') && <AlertBar />}
      <main id="content">{children}</main>
    </>
  );
}
