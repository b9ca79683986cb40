/**
 * What a live dry run shows per machine (issue 20): the unified diff of authorized_keys and of the sshd drop-in,
 * what would be written against what is there (both read from the machine), and the risks of the change:
 *   - RemovesLastKey: no key line would remain in authorized_keys (inside keyfleet's block or outside it);
 *   - PasswordOffBeforeKeyProven: password login would be turned off for a key that has never logged in to this
 *     machine (it is not in authorized_keys yet). A real live run proves the key by a fresh login and puts the old
 *     state back if that fails; with verify=false nothing would. An on-restart change (`boot`) is applied by the
 *     machine itself at its next start: nothing can prove it before that, and the boot proof that follows only
 *     records whether sshd accepts the key; the wording says so.
 * The same function serves live dry runs (files read over SSH) and on-restart ones (files read by the compute
 * backend, content computed by its boot step), so the risks are judged by one piece of code.
 * Kept with the item as its flat payload (TaskItem.payload), so a task's items answer with it after a restart.
 */
import type { ItemPayload } from '../task/task.js';
import { unifiedDiff } from './unified-diff.js';

/** Longest diff kept per file; a longer one is cut with a line that says so (authorized_keys is tenant content). */
export const MAX_DIFF_CHARS = 32_768;

export type DryRunRiskCode = 'RemovesLastKey' | 'PasswordOffBeforeKeyProven';

export interface DryRunPreview {
  authorizedKeysPath: string;
  /** Empty: authorized_keys would not change. */
  authorizedKeysDiff: string;
  /** Null: keyfleet does not manage password login on this machine. */
  dropInPath: string | null;
  dropInDiff: string;
  risks: { code: DryRunRiskCode; message: string }[];
}

export interface PreviewInput {
  authorizedKeysPath: string;
  authorizedKeysBefore: string | null;
  authorizedKeysAfter: string;
  authorizedKeysChanged: boolean;
  dropInPath: string | null;
  dropInBefore: string | null;
  /** Null: not managed. */
  dropInAfter: string | null;
  /** The key state wanted (live-change.ts LiveKeyState, restated: that module names this one's preview type). */
  desired: { key: { keyPairName: string; publicKey: string } | null; passwordLogin: boolean | null };
  loginUser: string;
  /** An on-restart change: the machine applies it itself at `when` ('its next start', 'its next restart'). */
  boot?: { when: string };
}

const isKeyLine = (line: string) => line.trim() !== '' && !line.trim().startsWith('#');
const keyBody = (publicKey: string) => publicKey.trim().split(/\s+/)[1] ?? '';

function cut(diff: string): string {
  if (diff.length <= MAX_DIFF_CHARS) return diff;
  return `${diff.slice(0, MAX_DIFF_CHARS)}\n… diff cut at ${MAX_DIFF_CHARS} characters\n`;
}

export function previewOf(p: PreviewInput): DryRunPreview {
  const risks: DryRunPreview['risks'] = [];
  const before = p.authorizedKeysBefore ?? '';
  const keysBefore = before.split('\n').filter(isKeyLine).length;
  const keysAfter = p.authorizedKeysAfter.split('\n').filter(isKeyLine).length;
  if (p.authorizedKeysChanged && keysBefore > 0 && keysAfter === 0) {
    const password =
      p.desired.passwordLogin === true
        ? 'password login would be turned on, so only a password would let anyone in'
        : 'and no other login method is turned on by keyfleet';
    const at = p.boot ? ` at ${p.boot.when}` : '';
    risks.push({
      code: 'RemovesLastKey',
      message: `The change removes the last key from ${p.authorizedKeysPath}${at}: no key would log in as ${p.loginUser}; ${password}.`,
    });
  }
  const dropChanged = p.dropInAfter !== null && p.dropInAfter !== p.dropInBefore;
  if (dropChanged && p.desired.passwordLogin === false && p.desired.key) {
    const body = keyBody(p.desired.key.publicKey);
    if (!before.split('\n').some((l) => l.includes(body))) {
      const name = p.desired.key.keyPairName;
      risks.push({
        code: 'PasswordOffBeforeKeyProven',
        message: p.boot
          ? `Password login would be turned off at ${p.boot.when} while key '${name}' has never logged in to this machine. An on-restart change cannot be proven before it takes effect: after the boot keyfleet asks the machine's sshd whether it accepts the key and records the instance as not verified if it does not, but does not put the old state back.`
          : `Password login would be turned off while key '${name}' has never logged in to this machine; a real run proves it by a fresh login and restores the old state if that fails (not with verify=false).`,
      });
    }
  }
  return {
    authorizedKeysPath: p.authorizedKeysPath,
    authorizedKeysDiff: cut(
      unifiedDiff(
        p.authorizedKeysPath,
        p.authorizedKeysBefore,
        p.authorizedKeysChanged ? p.authorizedKeysAfter : p.authorizedKeysBefore,
      ),
    ),
    dropInPath: p.dropInPath,
    dropInDiff:
      p.dropInAfter === null || !p.dropInPath ? '' : cut(unifiedDiff(p.dropInPath, p.dropInBefore, p.dropInAfter)),
    risks,
  };
}

/** The preview as an item's flat payload (and back, for the faces). */
export function previewPayload(p: DryRunPreview): ItemPayload {
  const risk = (code: DryRunRiskCode) => p.risks.find((r) => r.code === code)?.message ?? null;
  return {
    preview: 'dry-run',
    authorizedKeysPath: p.authorizedKeysPath,
    authorizedKeysDiff: p.authorizedKeysDiff,
    dropInPath: p.dropInPath,
    dropInDiff: p.dropInDiff,
    riskRemovesLastKey: risk('RemovesLastKey'),
    riskPasswordOffBeforeKeyProven: risk('PasswordOffBeforeKeyProven'),
  };
}

export function previewFromPayload(payload: ItemPayload | null | undefined): DryRunPreview | null {
  if (!payload || payload.preview !== 'dry-run') return null;
  const text = (k: string) => (typeof payload[k] === 'string' ? (payload[k] as string) : '');
  const risks: DryRunPreview['risks'] = [];
  if (typeof payload.riskRemovesLastKey === 'string')
    risks.push({ code: 'RemovesLastKey', message: payload.riskRemovesLastKey });
  if (typeof payload.riskPasswordOffBeforeKeyProven === 'string')
    risks.push({ code: 'PasswordOffBeforeKeyProven', message: payload.riskPasswordOffBeforeKeyProven });
  return {
    authorizedKeysPath: text('authorizedKeysPath'),
    authorizedKeysDiff: text('authorizedKeysDiff'),
    dropInPath: typeof payload.dropInPath === 'string' ? payload.dropInPath : null,
    dropInDiff: text('dropInDiff'),
    risks,
  };
}
