/**
 * How a revocation reads and edits a machine's authorized_keys files and asks it about the key. The same two ways
 * a drift scan reads machines (drift-service.ts): a registered host over SSH with its sealed management key (host
 * key pinned; writes through readForReplace, the atomic replace the live path uses, keeping mode and owner), a
 * simulated instance through its backend's guest files (drift-source.ts; the sim writes by rename). The proof is
 * the same for both: a fresh connection with no credential asks sshd whether it would accept the key (PK_OK).
 */
import { CoreError, isCoreError } from '../errors.js';
import type { DriftSource } from '../binding/drift-source.js';
import { homeDirOf } from '../binding/host-profile.js';
import { managementKeyContext } from '../instance/host-service.js';
import type { Instance } from '../instance/instance.js';
import type { LiveAccess, SecretBox } from '../ports.js';
import type { FileRef } from './key-copies.js';

export const ROOT_KEYS_FILE = '/root/.ssh/authorized_keys';

export interface MachineFiles {
  files: FileRef[];
  read(path: string): Promise<string | null>;
  /** Replaces the file atomically with edit(current) when that differs; false when the file does not exist. */
  edit(path: string, edit: (current: string) => string): Promise<boolean>;
  close(): void;
}

export interface MachineAccessDeps {
  live: LiveAccess;
  secrets: SecretBox;
  source?: DriftSource;
  timeoutMs: number;
}

/** Why a machine cannot be read or asked at all (null: it can be). */
export function unsupported(inst: Instance, source: DriftSource | undefined): string | null {
  if (inst.osType !== 'linux') return 'A Windows instance has no SSH and takes no key pair.';
  if (inst.backend === 'host') {
    if (!inst.host?.sealedManagementKey)
      return 'No management key is held for this host, so keyfleet cannot log in to read its authorized_keys.';
    if (!inst.hostKeySha256) return 'No host key is pinned for this host.';
    return null;
  }
  if (source?.backend !== inst.backend) return `keyfleet cannot read machines of the '${inst.backend}' backend.`;
  return null;
}

/** The files a revocation looks at: the managed user's authorized_keys and root's (once when they are the same). */
export function filesOf(inst: Instance): FileRef[] {
  const user = inst.loginUser;
  const userPath = `${inst.host?.homeDir ?? homeDirOf(user)}/.ssh/authorized_keys`;
  const rootPath = inst.host?.rootKeysFile ?? ROOT_KEYS_FILE;
  const files: FileRef[] = [{ account: 'user', user, path: userPath }];
  if (user !== 'root' && rootPath !== userPath) files.push({ account: 'root', user: 'root', path: rootPath });
  return files;
}

export async function openMachine(deps: MachineAccessDeps, inst: Instance): Promise<MachineFiles> {
  const files = filesOf(inst);
  if (inst.backend !== 'host') {
    const guest = deps.source?.backend === inst.backend ? await deps.source.filesOf(inst) : null;
    if (!guest) throw new CoreError('Live.Unreachable', 'The instance has no disk to read.', { instanceId: inst.id });
    return {
      files,
      read: (p) => guest.read(p),
      async edit(p, edit) {
        const current = await guest.read(p);
        if (current === null) return false;
        const next = edit(current);
        if (next !== current) {
          if (!guest.replace) throw new CoreError('Internal', `keyfleet cannot write files of this backend.`);
          await guest.replace(p, next);
        }
        return true;
      },
      close: () => undefined,
    };
  }
  const host = inst.host!;
  const privateKey = deps.secrets.open(host.sealedManagementKey!, managementKeyContext(inst.id));
  const session = await deps.live.openSession(
    { host: inst.address, port: inst.sshPort, username: host.managementUser },
    { kind: 'privateKey', privateKey },
    { kind: 'pinned', sha256: inst.hostKeySha256! },
    { timeoutMs: deps.timeoutMs, ...(host.sudo ? { sudo: true } : {}) },
  );
  return {
    files,
    read: async (p) => (await session.readFile(p))?.content ?? null,
    async edit(p, edit) {
      const file = await session.readForReplace(p);
      if (!file.current) {
        await file.discard();
        return false;
      }
      const next = edit(file.current.content);
      if (next === file.current.content) {
        await file.discard();
        return true;
      }
      const { mode, uid, gid } = file.current;
      await file.replace(next, { mode, uid, gid });
      return true;
    },
    close: () => session.close(),
  };
}

export interface ProbeAnswer {
  user: string;
  /** true: sshd would accept the key for this user (PK_OK); false: it refuses it; null: publickey not offered. */
  accepted: boolean | null;
}

/** Asks the machine, for each user, whether it would accept the key; no private key is involved. */
export async function probeKey(
  deps: MachineAccessDeps,
  inst: Instance,
  users: string[],
  publicKeyLine: string,
): Promise<ProbeAnswer[]> {
  if (!inst.hostKeySha256) throw new CoreError('Live.HostKeyChanged', 'No host key is pinned for this machine.');
  const answers: ProbeAnswer[] = [];
  for (const user of users) {
    const r = await deps.live.probeLogin(
      { host: inst.address, port: inst.sshPort, username: user },
      { kind: 'pinned', sha256: inst.hostKeySha256 },
      publicKeyLine,
      { timeoutMs: deps.timeoutMs },
    );
    answers.push({ user, accepted: r.keyAccepted });
  }
  return answers;
}

/** Network faults are retried until the deadline; anything else fails the machine with its reason. */
export function isUnreachable(err: unknown): boolean {
  return isCoreError(err) && (err.code === 'Live.Unreachable' || err.code === 'Live.Timeout');
}

export function reasonOf(err: unknown): string {
  if (isCoreError(err)) return `${err.code}: ${err.message}`;
  return 'Internal: an unexpected error (see the server log)';
}
