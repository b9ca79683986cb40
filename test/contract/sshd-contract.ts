/**
 * How a contract file runs its cases on every target: the targets start once per file, each case starts from the
 * target's reset state, and the helpers below talk to whichever target the case is running on.
 */
import { after, before, beforeEach, describe } from 'node:test';
import { sshRun, type SshResult } from '../support/openssh.js';
import { publickeyQueryAccepted, type Endpoint } from './sshd-probes.js';
import { startTargets, TARGET_NAMES, type SshdTarget } from './sshd-targets.js';

export type Key = { privateKeyPath: string; publicKey: string };

export interface TargetHelpers {
  /** The target the running case is on. */
  readonly t: SshdTarget;
  ep(): Endpoint;
  /** Does an unsigned publickey query for the key get PK_OK? */
  query(key: Key): Promise<boolean>;
  /** `ssh -i key user@target command`. */
  run(key: Key, command: string): Promise<SshResult>;
  withPassword(command: string): Promise<SshResult>;
  /** `type base64` of a public key line, without its comment. */
  keyBody(key: Key): string;
  /** authorized_keys made of these lines (0600). */
  setKeys(...lines: string[]): Promise<void>;
}

/** Declares `cases` once per target, under a describe named after the target. */
export function onEachTarget(cases: (h: TargetHelpers) => void): void {
  let targets: SshdTarget[] = [];
  before(async () => {
    targets = await startTargets();
  });
  after(async () => {
    await Promise.all(targets.map((t) => t.close()));
  });
  // The targets exist only once `before` has run, so the cases are declared per name and find their target then.
  for (const name of TARGET_NAMES) {
    describe(name, () => {
      let current: SshdTarget | undefined;
      beforeEach(async () => {
        current = targets.find((candidate) => candidate.name === name);
        if (!current) throw new Error(`target ${name} did not start`);
        await current.reset();
      });
      cases(helpersFor(() => current!));
    });
  }
}

function helpersFor(target: () => SshdTarget): TargetHelpers {
  const ep = () => ({ address: target().address, port: target().port, user: target().user });
  return {
    get t() {
      return target();
    },
    ep,
    query: (key) => publickeyQueryAccepted(ep(), key.publicKey),
    run: (key, command) =>
      sshRun({
        host: target().address,
        port: target().port,
        user: target().user,
        identityFile: key.privateKeyPath,
        command,
      }),
    withPassword: (command) =>
      sshRun({
        host: target().address,
        port: target().port,
        user: target().user,
        password: target().password,
        command,
      }),
    keyBody: (key) => key.publicKey.split(' ').slice(0, 2).join(' '),
    setKeys: (...lines) => target().setAuthorizedKeys(lines.join('\n') + '\n'),
  };
}
