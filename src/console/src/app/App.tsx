/** Routes of the console. Signed-out visitors see the sign-in page; signed-in ones get the frame and a page. */
import { useEffect } from 'react';
import { AuditPage } from '../pages/Audit';
import { AccountsPage } from '../pages/Accounts';
import { GroupDetailPage, GroupsPage } from '../pages/identity/Groups';
import { PoliciesPage } from '../pages/identity/Policies';
import { UserDetailPage } from '../pages/identity/UserDetail';
import { UsersPage } from '../pages/identity/Users';
import { InstancesPage } from '../pages/Instances';
import { InstanceDetailPage } from '../pages/detail/InstanceDetail';
import { KeyPairDetailPage } from '../pages/detail/KeyPairDetail';
import { KeyPairsPage } from '../pages/KeyPairs';
import { SignInPage } from '../pages/SignIn';
import { TaskDetailPage } from '../pages/TaskDetail';
import { TasksPage } from '../pages/Tasks';
import { RevocationDetailPage, RevocationsPage } from '../pages/Revocations';
import { WebhooksPage } from '../pages/Webhooks';
import { RotationDetailPage } from '../pages/RotationDetail';
import { RotationsPage } from '../pages/Rotations';
import { ErrorState, LoadingState } from '../ui/States';
import { Layout } from './Layout';
import { Link, match, navigate, useLocation } from './router';
import { ScopeProvider } from './scope';
import { useSession } from './session';
import { SystemAdminProvider } from './system';

const TITLES: Record<string, string> = {
  '/instances': 'Instances',
  '/key-pairs': 'Key Pairs',
  '/tasks': 'Tasks',
  '/audit': 'Audit',
  '/webhooks': 'Webhooks',
  '/rotations': 'Rotations',
  '/revocations': 'Revocations',
  '/identity/users': 'Users',
  '/identity/groups': 'Groups',
  '/identity/policies': 'Policies',
  '/identity/accounts': 'Accounts',
};

export function App() {
  const { state } = useSession();
  const { path, query } = useLocation();
  const next = query.get('next');

  useEffect(() => {
    if (state.status === 'signed-in' && (path === '/' || path === '/sign-in')) {
      navigate(next && /^\/[a-z]/.test(next) ? next : '/instances', { replace: true });
    }
    if (state.status === 'signed-out' && path !== '/sign-in') {
      const back = path === '/' ? '' : `?next=${encodeURIComponent(path)}`;
      navigate(`/sign-in${back}`, { replace: true });
    }
  }, [state.status, path, next]);

  useEffect(() => {
    const t = match('/tasks/:id', path)
      ? 'Task'
      : match('/instances/:id', path)
        ? 'Instance'
        : match('/key-pairs/:name', path)
          ? 'Key pair'
          : match('/rotations/:id', path)
            ? 'Rotation'
            : match('/identity/users/:name', path)
              ? 'User'
              : match('/identity/groups/:name', path)
                ? 'Group'
                : (TITLES[path] ?? (path === '/sign-in' ? 'Sign in' : 'keyfleet'));
    document.title = `${t} · keyfleet console`;
  }, [path]);

  if (state.status === 'checking')
    return (
      <div className="center-screen">
        <LoadingState label="Checking your session…" />
      </div>
    );
  if (state.status === 'signed-out') return <SignInPage notice={state.notice} />;

  return (
    <ScopeProvider
      fallback={(s) => (
        <div className="center-screen">
          {s.status === 'error' ? (
            <ErrorState title="Cannot load regions and resource groups" error={s.error} onRetry={s.retry} />
          ) : (
            <LoadingState label="Loading regions…" />
          )}
        </div>
      )}
    >
      <SystemAdminProvider>
        <Layout>
          <Page path={path} />
        </Layout>
      </SystemAdminProvider>
    </ScopeProvider>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/instances' || path === '/' || path === '/sign-in') return <InstancesPage />;
  if (path === '/key-pairs') return <KeyPairsPage />;
  const inst = match('/instances/:id', path);
  if (inst) return <InstanceDetailPage key={inst.id} id={inst.id!} />;
  const kp = match('/key-pairs/:name', path);
  if (kp) return <KeyPairDetailPage key={kp.name} nameOrId={kp.name!} />;
  if (path === '/tasks') return <TasksPage />;
  const t = match('/tasks/:id', path);
  if (t) return <TaskDetailPage id={t.id!} />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if (path === '/rotations') return <RotationsPage />;
  const rot = match('/rotations/:id', path);
  if (rot) return <RotationDetailPage id={rot.id!} />;
  if (path === '/revocations') return <RevocationsPage />;
  const rv = match('/revocations/:id', path);
  if (rv) return <RevocationDetailPage key={rv.id} id={rv.id!} />;
  if (path === '/identity' || path === '/identity/users') return <UsersPage />;
  if (path === '/identity/policies') return <PoliciesPage />;
  if (path === '/identity/accounts') return <AccountsPage />;
  const u = match('/identity/users/:name', path);
  if (u) return <UserDetailPage key={u.name} name={u.name!} />;
  if (path === '/identity/groups') return <GroupsPage />;
  const g = match('/identity/groups/:name', path);
  if (g) return <GroupDetailPage key={g.name} name={g.name!} />;
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        There is no console page at <code>{path}</code>. <Link to="/instances">Go to Instances</Link>.
      </p>
    </div>
  );
}
