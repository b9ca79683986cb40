/**
 * Live application of a key state to a running machine over SSH, agentless, and its proof.
 *
 * 1. Log in with the credential of the request (or the management credential).
 * 2. Read authorized_keys and the sshd drop-in; plan the change in pure code (only keyfleet's block is touched).
 * 3. Write atomically (temp file + rename, mode/owner kept); if the drop-in changed, `sshd -t` before the reload and
 *    put the old drop-in back if sshd refuses it.
 * 4. Prove it with a fresh connection: the bound key is accepted (or the removed key refused) and the password
 *    method is offered or not as the state says. If the proof fails, restore the previous content.
 *
 * The same steps run against a simulated instance and a real host; the credential lives only in this call.
 */
import { CoreError, isCoreError } from '../errors.js';
import type { HostKeyPolicy, LiveAccess, LiveCredential, LiveSession, RemoteFile, ReplaceableFile } from '../ports.js';
import { managedKeysIn, planAuthorizedKeys } from './authorized-keys.js';
import {
  LeaseLost,
  type LiveApplyHooks,
  type LiveApplyOptions,
  type LiveClock,
  type LiveHostProfile,
  type LiveKeyState,
  type LiveOutcome,
} from './live-change.js';
import { proveChange } from './live-proof.js';
import { previewOf } from './dry-run-preview.js';
import { passwordAuthenticationIn, renderSshdDropIn, SSHD_DROP_IN_PATH } from './sshd-drop-in.js';

const DEFAULT_RELOAD = 'systemctl reload ssh';
const DEFAULT_VALIDATE = 'sshd -t';

export async function applyLive(
  access: LiveAccess,
  profile: LiveHostProfile,
  credential: LiveCredential,
  desired: LiveKeyState,
  options: LiveApplyOptions,
  clock: LiveClock,
  hooks: LiveApplyHooks = {},
): Promise<LiveOutcome> {
  const session = await access.openSession(profile.target, credential, profile.hostKey, {
    timeoutMs: profile.timeoutMs,
    ...(profile.sudo ? { sudo: true } : {}),
  });
  const pinned: HostKeyPolicy = { kind: 'pinned', sha256: session.hostKeySha256 };
  const sshDir = `${profile.homeDir}/.ssh`;
  const akPath = `${sshDir}/authorized_keys`;
  const dropInPath = profile.dropInPath ?? SSHD_DROP_IN_PATH;
  const reload = profile.reloadCommand ?? DEFAULT_RELOAD;
  const validate = profile.validateCommand ?? DEFAULT_VALIDATE;
  // A dry run only reads; a change reads authorized_keys for replacement (the adapter may prepare the write in the
  // same round trip), and whatever it prepared is discarded before the session closes if it was not used.
  let ak: ReplaceableFile | null = null;
  try {
    const managesSshd = desired.passwordLogin !== null;
    const [akRead, dropBefore] = await Promise.all([
      options.dryRun
        ? session.readFile(akPath).then((current) => ({ current, directory: null }))
        : session.readForReplace(akPath),
      managesSshd ? session.readFile(dropInPath) : Promise.resolve(null),
    ]);
    if ('replace' in akRead) ak = akRead;
    const akBefore = akRead.current;
    const plan = planAuthorizedKeys(akBefore?.content ?? null, desired.key ? [desired.key] : []);
    const dropContent = managesSshd
      ? renderSshdDropIn({ passwordAuthentication: desired.passwordLogin === true })
      : null;
    const dropChanged = dropContent !== null && dropBefore?.content !== dropContent;
    const managementBody = profile.managementPublicKey?.trim().split(/\s+/)[1];
    if (
      managementBody !== undefined &&
      plan.removed.includes(managementBody) &&
      !plan.retainedOutside.includes(managementBody)
    ) {
      throw new CoreError(
        'Live.LockoutRefused',
        `The change would remove the key keyfleet logs in to ${profile.target.host}:${profile.target.port} with, and no other line authorises it; nothing was changed. Authorise the management key outside keyfleet's block first.`,
        { host: profile.target.host },
      );
    }

    if (options.dryRun) {
      return {
        hostKeySha256: session.hostKeySha256,
        authorizedKeysChanged: plan.changed,
        dropInChanged: dropChanged,
        verified: `dry run: ${describePlan(plan, desired, dropChanged)}`,
        preview: previewOf({
          authorizedKeysPath: akPath,
          authorizedKeysBefore: akBefore?.content ?? null,
          authorizedKeysAfter: plan.content,
          authorizedKeysChanged: plan.changed,
          dropInPath: managesSshd ? dropInPath : null,
          dropInBefore: dropBefore?.content ?? null,
          dropInAfter: dropContent,
          desired,
          loginUser: profile.loginUser ?? profile.target.username,
        }),
      };
    }

    // The intent is recorded (and the lease checked) before the first byte is written.
    if (
      (plan.changed || dropChanged) &&
      hooks.beforeWrite &&
      !(await hooks.beforeWrite({
        publicKeys: managedKeysIn(akBefore?.content ?? ''),
        passwordLogin: dropBefore ? passwordAuthenticationIn(dropBefore.content) : null,
      }))
    )
      throw new LeaseLost();

    const writeKeys = async () => {
      if (plan.changed) {
        // ~/.ssh 0700, owned as authorized_keys is (StrictModes); as the read saw it, it usually is already.
        const owner = { uid: akBefore?.uid, gid: akBefore?.gid };
        const dir = akRead.directory;
        if (!dir || dir.mode !== 0o700 || (akBefore && (dir.uid !== akBefore.uid || dir.gid !== akBefore.gid)))
          await session.ensureDir(sshDir, { mode: 0o700, ...owner });
        await ak!.replace(plan.content, { mode: akBefore?.mode ?? 0o600, ...owner });
      } else {
        await ak!.discard();
      }
    };
    // The two writes are ordered so that the credential the change logs in with works in the state between them:
    // turning password login on (an unbind) reloads sshd before the key leaves the block, turning it off (a bind)
    // puts the key in before the password goes. A change cut off in between is then finished by its retry.
    const passwordFirst = dropChanged && desired.passwordLogin === true;
    if (passwordFirst)
      await writeDropInChecked(session, dropInPath, dropContent!, dropBefore, validate, reload, noUndo);
    await writeKeys().catch(async (err: unknown) => {
      // The keys could not be written: the drop-in written a moment ago goes back too (whole change or nothing).
      if (passwordFirst) {
        await restoreFile(session, dropInPath, dropBefore);
        await session.exec(reload);
      }
      throw err;
    });
    // After an interrupted attempt the drop-in may already say what is wanted while sshd was never reloaded: the
    // reload is done again, so what sshd does and what its files say cannot differ when the record is written.
    const reloadAgain = !dropChanged && dropContent !== null && options.reloadAfterInterruption === true;
    if (reloadAgain) {
      const check = await reloadChecked(session, validate, reload);
      if (check.code !== 0)
        throw new CoreError(
          'Live.RemoteError',
          `Reloading sshd after an interrupted change failed (exit ${check.code}): ${check.stderr.trim().slice(0, 300)}`,
          { host: profile.target.host },
        );
    }
    if (dropChanged && !passwordFirst) {
      await writeDropInChecked(session, dropInPath, dropContent!, dropBefore, validate, reload, async () => {
        if (plan.changed) await restoreFile(session, akPath, akBefore);
      });
    }

    // A removed key that the user also added by hand keeps working through that line: keyfleet does not delete
    // lines it does not own, so it reports this instead of expecting a refusal.
    const removedBody = profile.removedPublicKey?.trim().split(/\s+/)[1];
    const stillAuthorized = removedBody !== undefined && plan.retainedOutside.includes(removedBody);
    if (options.verify === false) {
      return {
        hostKeySha256: session.hostKeySha256,
        authorizedKeysChanged: plan.changed,
        dropInChanged: dropChanged,
        verified: `written without a login proof (verification off): ${describePlan(plan, desired, dropChanged)}`,
      };
    }
    const proof = {
      access,
      pinned,
      desired,
      clock,
      profile: { ...profile, removedPublicKey: stillAuthorized ? null : profile.removedPublicKey },
      proved: hooks.proved,
    };
    let verdict = await proveChange(proof, dropChanged || reloadAgain);
    if (!verdict.ok && verdict.passwordOnly && dropContent !== null && !dropChanged && !reloadAgain) {
      // The drop-in already says what is wanted and the keys are right, but sshd does otherwise: it never loaded
      // the drop-in (a reload cut off in an earlier task whose outcome could not be observed, or a hand edit).
      if ((await reloadChecked(session, validate, reload)).code === 0) verdict = await proveChange(proof, true);
    }
    if (!verdict.ok) {
      if (hooks.mayRestore && !(await hooks.mayRestore())) throw new LeaseLost();
      await restoreFile(session, akPath, akBefore);
      if (dropChanged) {
        await restoreFile(session, dropInPath, dropBefore);
        await session.exec(reload);
      }
      throw new CoreError(
        'Live.VerificationFailed',
        `The change was written but a fresh login did not confirm it (${verdict.reason}); the previous state was restored.`,
        { host: profile.target.host },
      );
    }
    const verified = stillAuthorized
      ? `${verdict.reason}; the removed key is still authorised by a line keyfleet does not manage`
      : verdict.reason;
    return {
      hostKeySha256: session.hostKeySha256,
      authorizedKeysChanged: plan.changed,
      dropInChanged: dropChanged,
      verified,
    };
  } catch (err) {
    if (isCoreError(err) || err instanceof LeaseLost) throw err;
    // A socket error that reached here without the adapter naming it is still a network fault, never a remote one.
    if (isNetworkFault(err))
      throw new CoreError(
        'Live.Unreachable',
        `The connection to ${profile.target.host}:${profile.target.port} failed during the change (${(err as { code: string }).code}).`,
        { host: profile.target.host },
      );
    throw new CoreError(
      'Live.RemoteError',
      `The change on ${profile.target.host}:${profile.target.port} failed: ${err instanceof Error ? err.message : String(err)}`,
      { host: profile.target.host },
    );
  } finally {
    // Unchanged, refused (lock-out guard) or failed before the write: nothing prepared may stay on the host.
    if (ak) await ak.discard().catch(() => undefined);
    session.close();
  }
}

async function writeDropInChecked(
  session: LiveSession,
  path: string,
  content: string,
  before: RemoteFile | null,
  validate: string,
  reload: string,
  undoOthers: () => Promise<void>,
): Promise<void> {
  // A new drop-in belongs to whoever keyfleet logs in as (root on most hosts); asking for uid 0 would fail for a
  // non-root management user that was given the drop-in directory.
  try {
    await session.writeFileAtomic(path, content, { mode: before?.mode ?? 0o644, uid: before?.uid, gid: before?.gid });
  } catch (err) {
    // e.g. no right to write sshd's directory: the authorized_keys change made a moment ago goes back too.
    await undoOthers();
    throw err;
  }
  const rollBack = async (why: string): Promise<never> => {
    await restoreFile(session, path, before);
    await undoOthers();
    throw new CoreError('Live.RemoteError', why);
  };
  // One command for both when the reload is a simple command: every exec starts the user's shell, which on many
  // hosts reads a .bashrc that costs more than sshd -t and the reload together.
  if (isSimpleCommand(reload)) {
    const both = await session.exec(`${validate} && ${reload}`);
    if (both.code === 0) return;
    const check = await session.exec(validate);
    if (check.code !== 0)
      return rollBack(
        `sshd refused the new configuration and it was rolled back: ${check.stderr.trim().slice(0, 300)}`,
      );
    return rollBack(`Reloading sshd failed (${reload}: exit ${both.code}); the change was rolled back.`);
  }
  const check = await session.exec(validate);
  if (check.code !== 0)
    return rollBack(`sshd refused the new configuration and it was rolled back: ${check.stderr.trim().slice(0, 300)}`);
  const reloaded = await session.exec(reload);
  if (reloaded.code !== 0)
    return rollBack(`Reloading sshd failed (${reload}: exit ${reloaded.code}); the change was rolled back.`);
}

const NETWORK_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
]);

function isNetworkFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_ERRNOS.has(code);
}

const noUndo = async (): Promise<void> => undefined;

/** `validate`, then `reload` only if sshd accepts its configuration: the first failure's result, or the reload's. */
function reloadChecked(session: LiveSession, validate: string, reload: string) {
  return isSimpleCommand(reload)
    ? session.exec(`${validate} && ${reload}`)
    : session.exec(validate).then((v) => (v.code === 0 ? session.exec(reload) : v));
}

/** No list or pipeline operator outside '&&' chains: `validate && reload` then means "reload only if valid". */
function isSimpleCommand(command: string): boolean {
  return !/[;|\n]|&(?!&)/.test(command.replace(/&&/g, ''));
}

async function restoreFile(session: LiveSession, path: string, before: RemoteFile | null): Promise<void> {
  if (before)
    await session.writeFileAtomic(path, before.content, { mode: before.mode, uid: before.uid, gid: before.gid });
  else await session.removeFile(path);
}

function describePlan(
  plan: ReturnType<typeof planAuthorizedKeys>,
  desired: LiveKeyState,
  dropChanged: boolean,
): string {
  const parts: string[] = [];
  if (!plan.changed) parts.push("keyfleet's block already as wanted");
  else
    parts.push(desired.key ? `keyfleet's block set to key '${desired.key.keyPairName}'` : "keyfleet's block emptied");
  if (plan.removed.length) parts.push(`${plan.removed.length} key(s) leave the block`);
  if (dropChanged) parts.push(`password login turned ${desired.passwordLogin ? 'on' : 'off'} (sshd -t, reload)`);
  return parts.join('; ');
}

export type {
  LiveApplyHooks,
  LiveApplyOptions,
  LiveClock,
  LiveHostProfile,
  LiveKeyState,
  LiveOutcome,
} from './live-change.js';
