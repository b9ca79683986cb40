/**
 * What a machine really does, seen with the real OpenSSH client, against what keyfleet reports for it.
 *
 * Per machine: each test key pair with `ssh -i` (publickey only), and the login user's password (password only,
 * given through SSH_ASKPASS by test/support/openssh.ts). Simulated instances are logged in to as root with their
 * root password; harness hosts as their login user, who has a real password (the harness sets one with chpasswd),
 * so "password login on" is a real password login there too, not only the method being offered.
 */
import { sshRun } from '../../support/openssh.js';
import type { Machine } from './kill-nine-fleet.js';

export interface TestKey {
  name: string;
  privateKeyPath: string;
}

/** true: logged in; false: refused by the server (Permission denied); a string: could not tell, and why. */
export type Outcome = boolean | string;

export interface Observed {
  keys: Record<string, Outcome>;
  password: Outcome;
}

/** What keyfleet's native API says of the machine (GET /api/v1/instances/:id). */
export interface Reported {
  keyPairName: string | null;
  passwordLogin: boolean;
  pendingRestart: boolean;
}

export async function observe(m: Machine, keys: TestKey[]): Promise<Observed> {
  const observed: Observed = { keys: {}, password: '' };
  for (const k of keys) observed.keys[k.name] = await loginOutcome(m, { identityFile: k.privateKeyPath });
  observed.password = await loginOutcome(m, { password: m.password });
  return observed;
}

/** Observes every machine, `parallel` at a time. */
export async function observeAll(machines: Machine[], keys: TestKey[], parallel = 16): Promise<Map<string, Observed>> {
  const out = new Map<string, Observed>();
  let next = 0;
  const worker = async () => {
    while (next < machines.length) {
      const m = machines[next++]!;
      out.set(m.id, await observe(m, keys));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** Why the machine does not do what keyfleet reports, or null when it does. */
export function disagreement(reported: Reported, observed: Observed, keys: TestKey[]): string | null {
  const problems: string[] = [];
  // After a live task nothing may wait for a restart: keyPairName would then be what the machine gets at its next
  // boot, not what it does now.
  if (reported.pendingRestart) problems.push('keyfleet reports the live change unfinished, waiting for a restart');
  if (reported.keyPairName !== null && !keys.some((k) => k.name === reported.keyPairName))
    problems.push(`keyfleet reports key pair '${reported.keyPairName}', which the test did not bind`);
  for (const k of keys) {
    const expected = reported.keyPairName === k.name;
    const seen = observed.keys[k.name];
    if (seen !== expected)
      problems.push(`key '${k.name}' ${describe(seen ?? 'not tried')} (reported ${expected ? 'bound' : 'not bound'})`);
  }
  if (observed.password !== reported.passwordLogin)
    problems.push(`password login ${describe(observed.password)} (reported ${reported.passwordLogin ? 'on' : 'off'})`);
  return problems.length ? problems.join('; ') : null;
}

/** A one-line summary of what the machine does, for grouping mismatches. */
export function summary(o: Observed): string {
  const keys = Object.entries(o.keys)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
  const unknown = [...Object.values(o.keys), o.password].some((v) => typeof v === 'string');
  return `logs in with ${keys.length ? keys.join('+') : 'no test key'}, password ${o.password === true ? 'on' : 'off'}${unknown ? ' (some logins could not be told)' : ''}`;
}

function describe(o: Outcome): string {
  if (o === true) return 'logs in';
  if (o === false) return 'is refused';
  return `could not be observed (${o})`;
}

async function loginOutcome(m: Machine, auth: { identityFile?: string; password?: string }): Promise<Outcome> {
  let last = '';
  // A second try only when the first answer was neither a login nor a refusal (e.g. a connection reset).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const r = await sshRun({ host: m.address, port: m.port, user: m.user, command: 'echo in', ...auth });
      if (r.code === 0 && r.stdout.trim() === 'in') return true;
      if (/Permission denied/.test(r.stderr)) return false;
      last = `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
  }
  return last;
}
