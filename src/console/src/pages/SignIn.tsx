/** Sign in with a console password (POST /api/v1/sessions {userName, password}). */
import { type FormEvent, useState } from 'react';
import { useSession } from '../app/session';
import { IconLogo } from '../ui/Icons';
import { InlineError } from '../ui/States';

export function SignInPage({ notice }: { notice?: string }) {
  const { signIn } = useSession();
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [accountName, setAccountName] = useState('');
  const [showAccount, setShowAccount] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!userName || !password) {
      setError(new Error('Enter your user name and password.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn({ userName: userName.trim(), password, accountName: accountName.trim() || undefined });
    } catch (err) {
      setError(err);
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <div className="sign-in">
      <main className="sign-in-card" aria-labelledby="sign-in-title">
        <div className="sign-in-brand">
          <IconLogo className="brand-logo" />
          <span className="brand-name">keyfleet</span>
        </div>
        <h1 id="sign-in-title">Sign in to the console</h1>
        <p className="muted">
          SSH key pairs for your fleet: create, import, bind, unbind, and see every change proven.
        </p>
        {notice ? (
          <div className="alert alert-info" role="status">
            {notice}
          </div>
        ) : null}
        <form onSubmit={submit} noValidate>
          {showAccount ? (
            <div className="field">
              <label htmlFor="si-account">Account</label>
              <input
                id="si-account"
                value={accountName}
                onChange={(e) => setAccountName(e.target.value)}
                autoComplete="organization"
                placeholder="keyfleet"
              />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="si-user">User name</label>
            <input
              id="si-user"
              value={userName}
              onChange={(e) => setUserName(e.target.value)}
              autoComplete="username"
              autoFocus
              required
            />
          </div>
          <div className="field">
            <label htmlFor="si-password">Password</label>
            <input
              id="si-password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="current-password"
              required
            />
          </div>
          <InlineError error={error} />
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          {!showAccount ? (
            <button type="button" className="link-button small" onClick={() => setShowAccount(true)}>
              Sign in to another account
            </button>
          ) : null}
        </form>
      </main>
    </div>
  );
}
