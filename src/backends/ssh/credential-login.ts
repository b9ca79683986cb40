/**
 * How a login uses the caller's credential: straight to it (no 'none' round trip, a key signs at once), read only
 * inside the auth step, after the host key passed; and whatever text reaches an error has the secret cut out.
 */
import type { LiveCredential } from '../../core/ports.js';
import type { AuthStep } from './dial.js';
import { loginKeyOf, type LoginKey } from './login-key.js';

/**
 * Straight to the credential (no 'none' round trip, a key signs at once); the credential is read only here, after
 * the host key passed.
 */
export function credentialLogin(
  username: string,
  credential: LiveCredential,
): { step: AuthStep; key: LoginKey | null } {
  // Parse up front (once per credential object): a malformed key fails fast and locally, before any connection.
  const key = credential.kind === 'privateKey' ? loginKeyOf(credential) : null;
  let pending: LiveCredential | null = credential;
  const step: AuthStep = () => {
    const cred = pending;
    pending = null; // one attempt; drop the reference as soon as it is used
    if (!cred) return false;
    if (cred.kind === 'password') return { type: 'password', username, password: cred.password };
    return { type: 'publickey', username, key: key!.parsed };
  };
  return { step, key };
}

/**
 * Defence in depth: whatever text reaches an error, the secret itself is cut out. The secret is read only when
 * there is text to scrub, so the auth step stays the one place that reads it on the way to the wire.
 */
export function scrubberFor(credential: LiveCredential): (text: string) => string {
  const secretsOf = (): string[] =>
    credential.kind === 'password'
      ? [credential.password].filter((s) => s.length >= 4)
      : credential.privateKey
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return (text) => secretsOf().reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
}
