/**
 * Drift: what a host's files say compared with what keyfleet bound. Pure: the caller reads the files (over SSH)
 * and hands their text in, so the same comparison serves scans, repairs and tests.
 *
 * The rule (what counts as drift):
 * - A machine is `drifted` when keyfleet's own state on it differs from what keyfleet wrote: its block of
 *   authorized_keys is not exactly what keyfleet would write now (block missing, corrupt, holding another key or
 *   any line keyfleet did not write, a block left while nothing is bound), or its sshd drop-in is missing or not
 *   the text keyfleet renders. Exactly then does a repair (a live bind or unbind, which rewrites only the block and
 *   the drop-in) change something.
 * - A key line INSIDE the block that keyfleet did not put there (issue 16) is a `foreign-key-in-block` finding with
 *   its SHA256 fingerprint, however it is written (plain, with options, or forged with a `keyfleet:` comment).
 *   Whoever reads the block reads "keyfleet manages these keys", so a repair removes such a line: keyfleet's block
 *   is rewritten whole and holds only the bound key afterwards. Until the repair the key can log in, so it is also
 *   listed in `unmanagedKeys`.
 * - Keys added by hand OUTSIDE the block are not drift: keyfleet never owned them and a repair keeps them. They
 *   are listed in `unmanagedKeys`, so an operator sees everyone else who can log in, without every hand-added key
 *   turning the host red.
 * - An `expiry-time` on keyfleet's line is keyfleet's own (issue 19), never drift by itself; a line whose expiry
 *   differs from the binding's recorded expiry (or has one while the binding has none, or none while it has one)
 *   is `expiry-differs`: a repair rewrites it with the recorded expiry.
 * - A host keyfleet has never changed (nothing bound, no binding recorded) has no drop-in of keyfleet's yet; its
 *   absence is then not drift (a repair would otherwise write one nobody asked for).
 */
import { Buffer } from 'node:buffer';
import { fingerprints } from '../keypair/public-key.js';
import {
  keyfleetLineExpiry,
  parseAuthorizedKeys,
  planAuthorizedKeys,
  type AuthorizedKeysEntry,
  type ManagedKey,
} from './authorized-keys.js';
import { passwordAuthenticationIn } from './sshd-drop-in.js';

export type DriftStatus = 'in-sync' | 'drifted';

export type DriftFindingCode =
  | 'authorized-keys-missing'
  | 'block-missing'
  | 'block-corrupt'
  | 'block-unexpected'
  | 'bound-key-missing'
  | 'foreign-key-in-block'
  | 'block-altered'
  | 'expiry-differs'
  | 'drop-in-missing'
  | 'drop-in-altered';

export interface KeyLine {
  /** 'SHA256:…' exactly as `ssh-keygen -l` prints it. */
  fingerprintSha256: string;
  /** The key type as written on the line ('ssh-ed25519', 'ssh-rsa', …). */
  keyType: string;
  comment: string;
  /** 1-based line in authorized_keys. */
  line: number;
  /** Where the line is: inside keyfleet's marked block, or among the lines keyfleet does not own. */
  location: 'block' | 'outside';
  /** The account's key pair with this public key, when there is one. */
  keyPairName: string | null;
  /** True for the key keyfleet itself logs in to this host with. */
  managementKey: boolean;
}

export interface DriftFinding {
  code: DriftFindingCode;
  message: string;
  /** The key the finding is about (foreign-key-in-block). */
  key?: KeyLine;
}

export interface DriftInput {
  /** authorized_keys as read from the host; null when the file does not exist. */
  authorizedKeys: string | null;
  /** What keyfleet bound: the key pair in its block, or null for none. */
  bound: ManagedKey | null;
  /** The drop-in as read; null when the file does not exist. */
  dropIn: string | null;
  /** The drop-in keyfleet renders for the binding; null when keyfleet has not written one to this host yet. */
  expectedDropIn: string | null;
  /** The account's key pair name for a public key body (base64), or null when unknown. */
  keyPairNameOf: (base64: string) => string | null;
  /** The public key keyfleet logs in with (`type base64`), to label its line. */
  managementPublicKey?: string | null;
}

export interface DriftReport {
  status: DriftStatus;
  findings: DriftFinding[];
  /** Every key line keyfleet did not write: hand-added lines outside the block, foreign lines inside it. */
  unmanagedKeys: KeyLine[];
}

export function compareDrift(input: DriftInput): DriftReport {
  const parsed = parseAuthorizedKeys(input.authorizedKeys ?? '');
  const managementBody = input.managementPublicKey?.trim().split(/\s+/)[1] ?? null;
  const boundBody = input.bound?.publicKey.trim().split(/\s+/)[1] ?? null;
  const describe = (e: AuthorizedKeysEntry): KeyLine => ({
    fingerprintSha256: fingerprints(Buffer.from(e.base64, 'base64')).sha256,
    keyType: e.type,
    comment: e.comment,
    line: e.lineNo,
    location: e.managed || e.inBlock ? 'block' : 'outside',
    keyPairName: input.keyPairNameOf(e.base64),
    managementKey: e.base64 === managementBody,
  });

  const findings: DriftFinding[] = [];
  const unmanagedKeys: KeyLine[] = [];
  for (const entry of parsed.entries) {
    const key = describe(entry);
    if (key.location === 'outside') {
      unmanagedKeys.push(key);
      continue;
    }
    if (entry.managed && entry.base64 === boundBody) continue;
    if (!entry.managed) unmanagedKeys.push(key);
    const known = key.keyPairName ? `key pair '${key.keyPairName}'` : 'a key no key pair of this account has';
    findings.push({
      code: 'foreign-key-in-block',
      message: `Line ${key.line} in keyfleet's block authorises ${known} (${key.fingerprintSha256}), which keyfleet did not bind here; a repair removes it (a key meant to stay belongs outside the block).`,
      key,
    });
  }

  const boundLine = parsed.entries.find((e) => e.managed && e.base64 === boundBody);
  const lineExpiry = boundLine ? { at: keyfleetLineExpiry(boundLine.raw) } : null;
  findings.unshift(...blockFindings(input, parsed.managedBlock, boundBody, findings.length > 0, lineExpiry));
  findings.push(...dropInFindings(input));
  return { status: findings.length > 0 ? 'drifted' : 'in-sync', findings, unmanagedKeys };
}

/** Findings about the block as a whole; `keyFindings`: whether foreign keys inside it were already reported. */
function blockFindings(
  input: DriftInput,
  state: 'absent' | 'present' | 'corrupt',
  boundBody: string | null,
  keyFindings: boolean,
  lineExpiry: { at: Date | null } | null,
): DriftFinding[] {
  const plan = planAuthorizedKeys(input.authorizedKeys, input.bound ? [input.bound] : []);
  if (!plan.changed) return [];
  const name = input.bound?.keyPairName;
  if (input.authorizedKeys === null) {
    return [
      {
        code: 'authorized-keys-missing',
        message: `authorized_keys does not exist; key pair '${name}' is bound and should be in keyfleet's block.`,
      },
    ];
  }
  if (state === 'corrupt')
    return [
      {
        code: 'block-corrupt',
        message: "keyfleet's block markers are broken (not exactly one BEGIN followed by one END).",
      },
    ];
  if (state === 'absent')
    return [
      {
        code: 'block-missing',
        message: `keyfleet's block is missing; key pair '${name}' is bound and should be in it.`,
      },
    ];
  if (!input.bound)
    return [
      {
        code: 'block-unexpected',
        message: "keyfleet's block is present while no key pair is bound; an unbind would remove it.",
      },
    ];
  if (boundBody !== null && plan.added.includes(boundBody))
    return [{ code: 'bound-key-missing', message: `keyfleet's block does not hold the bound key pair '${name}'.` }];
  const wantedExpiry = input.bound?.expiresAt ?? null;
  if (lineExpiry && !keyFindings && lineExpiry.at?.getTime() !== wantedExpiry?.getTime()) {
    const say = (d: Date | null) => (d ? `expires at ${d.toISOString()}` : 'does not expire');
    return [
      {
        code: 'expiry-differs',
        message: `The line of key pair '${name}' ${say(lineExpiry.at)}; the binding ${say(wantedExpiry)}. A repair rewrites it.`,
      },
    ];
  }
  // Foreign keys inside the block already explain the difference; anything else is an edit of keyfleet's lines.
  return keyFindings
    ? []
    : [
        {
          code: 'block-altered',
          message: "keyfleet's block was edited (a line changed, added or removed) and is not what keyfleet wrote.",
        },
      ];
}

function dropInFindings(input: DriftInput): DriftFinding[] {
  if (input.expectedDropIn === null || input.dropIn === input.expectedDropIn) return [];
  const wanted = input.bound ? 'off' : 'on';
  if (input.dropIn === null)
    return [
      {
        code: 'drop-in-missing',
        message: `keyfleet's sshd drop-in is missing; SSH password login should be ${wanted} on this host.`,
      },
    ];
  const sets = passwordAuthenticationIn(input.dropIn);
  const effect =
    sets === null ? 'it sets no PasswordAuthentication' : `it sets PasswordAuthentication ${sets ? 'yes' : 'no'}`;
  return [
    {
      code: 'drop-in-altered',
      message: `keyfleet's sshd drop-in was edited (${effect}); SSH password login should be ${wanted}.`,
    },
  ];
}
