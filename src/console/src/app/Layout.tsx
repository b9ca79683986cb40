/** The frame of every signed-in page: top bar (region, resource group, user menu), left navigation, content. */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import { ResourceGroupsDialog } from '../dialogs/ResourceGroupsDialog';
import { useResource } from '../lib/hooks';
import {
  IconAudit,
  IconBuilding,
  IconPolicy,
  IconFolder,
  IconGlobe,
  IconKey,
  IconLogo,
  IconMenu,
  IconServer,
  IconTasks,
  IconUser,
  IconUsers,
} from '../ui/Icons';
import { MenuButton } from '../ui/Menu';
import { Link, useLocation } from './router';
import { useScope } from './scope';
import { useSession, useWho } from './session';
import { useIsSystemAdmin } from './system';

const NAV = [
  { to: '/instances', label: 'Instances', icon: <IconServer /> },
  { to: '/key-pairs', label: 'Key Pairs', icon: <IconKey /> },
  { to: '/tasks', label: 'Tasks', icon: <IconTasks /> },
  { to: '/rotations', label: 'Rotations', icon: <IconKey /> },
  { to: '/revocations', label: 'Revocations', icon: <IconKey /> },
  { to: '/audit', label: 'Audit', icon: <IconAudit /> },
];
/** Webhooks carry the whole account's events: account administrators only (the API refuses everyone else). */
const ADMIN_NAV = [{ to: '/webhooks', label: 'Webhooks', icon: <IconGlobe /> }];
/** Shown to account administrators only (the API refuses everyone else anyway). */
const IDENTITY_NAV = [
  { to: '/identity/users', label: 'Users', icon: <IconUser /> },
  { to: '/identity/groups', label: 'Groups', icon: <IconUsers /> },
  { to: '/identity/policies', label: 'Policies', icon: <IconPolicy /> },
];
/** Shown to the system administrator only (GET /accounts answered 200). */
const SYSTEM_NAV = [{ to: '/identity/accounts', label: 'Accounts', icon: <IconBuilding /> }];

export function Layout({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const who = useWho();
  const isSystemAdmin = useIsSystemAdmin();
  const [navOpen, setNavOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const running = useResource(() => api.tasks({ status: 'running', limit: 1 }), [], {
    pollMs: (d) => (d && d.total > 0 ? 1500 : 5000),
  });
  const runningCount = running.data?.total ?? 0;

  useEffect(() => setNavOpen(false), [path]);
  useEffect(() => {
    if (!navOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setNavOpen(false);
        menuButton.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navOpen]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar navOpen={navOpen} onToggleNav={() => setNavOpen((o) => !o)} menuButtonRef={menuButton} />
      <div className="shell-body">
        <nav id="side-nav" className={`side-nav${navOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            {(who.isAccountAdmin ? [...NAV, ...ADMIN_NAV] : NAV).map((n) => (
              <NavItem key={n.to} item={n} path={path}>
                {n.to === '/tasks' && runningCount > 0 ? (
                  <span className="nav-badge">
                    {runningCount}
                    <span className="visually-hidden"> running</span>
                  </span>
                ) : null}
              </NavItem>
            ))}
          </ul>
          {who.isAccountAdmin ? (
            <>
              <h2 className="nav-heading" id="nav-identity">
                Identity
              </h2>
              <ul aria-labelledby="nav-identity">
                {(isSystemAdmin ? [...IDENTITY_NAV, ...SYSTEM_NAV] : IDENTITY_NAV).map((n) => (
                  <NavItem key={n.to} item={n} path={path} />
                ))}
              </ul>
            </>
          ) : null}
          <p className="side-nav-foot">keyfleet · SSH key pairs for fleets</p>
        </nav>
        {navOpen ? <div className="nav-scrim" onClick={() => setNavOpen(false)} aria-hidden /> : null}
        <main id="main" className="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

/** One link of the side navigation, marked current on its page and the pages below it. */
function NavItem({
  item,
  path,
  children,
}: {
  item: { to: string; label: string; icon: ReactNode };
  path: string;
  /** After the label, e.g. a count badge. */
  children?: ReactNode;
}) {
  const active = path === item.to || path.startsWith(`${item.to}/`);
  return (
    <li>
      <Link to={item.to} className={`nav-link${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined}>
        {item.icon}
        <span>{item.label}</span>
        {children}
      </Link>
    </li>
  );
}

function TopBar({
  navOpen,
  onToggleNav,
  menuButtonRef,
}: {
  navOpen: boolean;
  onToggleNav: () => void;
  menuButtonRef: React.RefObject<HTMLButtonElement | null>;
}) {
  const scope = useScope();
  const who = useWho();
  const { signOut } = useSession();
  return (
    <header className="top-bar">
      <button
        ref={menuButtonRef}
        type="button"
        className="icon-button nav-toggle"
        aria-label="Navigation"
        aria-expanded={navOpen}
        aria-controls="side-nav"
        onClick={onToggleNav}
      >
        <IconMenu />
      </button>
      <Link to="/instances" className="brand" aria-label="keyfleet console home">
        <IconLogo className="brand-logo" />
        <span className="brand-name">keyfleet</span>
        <span className="brand-sub">console</span>
      </Link>
      <div className="scope">
        <label className="scope-select">
          <IconGlobe />
          <span className="visually-hidden">Region</span>
          <select aria-label="Region" value={scope.regionId} onChange={(e) => scope.setRegion(e.target.value)}>
            {scope.regions.map((r) => (
              <option key={r.id} value={r.id}>
                {r.localName} ({r.id})
              </option>
            ))}
          </select>
        </label>
        <label className="scope-select">
          <IconFolder />
          <span className="visually-hidden">Resource group</span>
          <select aria-label="Resource group" value={scope.groupId} onChange={(e) => scope.setGroup(e.target.value)}>
            <option value="">All resource groups</option>
            {scope.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <ManageGroupsButton />
      </div>
      <div className="top-bar-end">
        <MenuButton
          className="user-button"
          ariaLabel={`User menu: ${who.userName}`}
          icon={<IconUser />}
          label={
            <span className="user-name">
              {who.userName}
              <span className="user-account">@{who.accountName}</span>
            </span>
          }
          items={[{ label: 'Sign out', onSelect: () => void signOut() }]}
        />
      </div>
    </header>
  );
}

/** Opens the resource group manager (create, rename, delete) from the top bar. */
function ManageGroupsButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="link-button small" onClick={() => setOpen(true)}>
        Manage groups
      </button>
      {open ? <ResourceGroupsDialog onClose={() => setOpen(false)} /> : null}
    </>
  );
}
