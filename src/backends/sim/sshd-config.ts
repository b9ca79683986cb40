/**
 * How the simulated sshd reads /etc/ssh/sshd_config, following OpenSSH's rules rather than keyfleet's wishes, so a
 * drop-in that would not work on a real Debian host does not work here either:
 * - keywords are case-insensitive, `Keyword value` or `Keyword=value`; `#` starts a comment;
 * - the FIRST value obtained for a keyword wins, except AllowUsers/DenyUsers/AllowGroups/DenyGroups, whose lines
 *   all add to one list;
 * - `Include` is expanded where it appears (relative paths against /etc/ssh, glob results in lexical order);
 * - reading stops at the first `Match` line (the sim evaluates no Match criteria);
 * - unlike sshd, more than 256 KiB of config text, more than 256 files visited or 4096 names globbed make the config unusable
 *   (sshd-config-files.ts): every tenant's sshd shares one event loop.
 *
 * effectiveSshdConfig is lenient (a line it cannot use is skipped) because it answers "what would a running sshd
 * do"; validateSshdConfig is strict and answers `sshd -t` with OpenSSH's messages and fatal-error order.
 */
import { parseAuthenticationMethods } from './sshd-auth-chains.js';
import {
  type ConfigLine,
  expandIncludes,
  IncludeBudget,
  MAX_INCLUDE_DEPTH,
  readConfigLines,
  SshdConfigUnusable,
} from './sshd-config-files.js';
import { isFlag, isPermitRootLogin, KEYWORD_KINDS, type PermitRootLogin } from './sshd-config-keywords.js';

export type { PermitRootLogin } from './sshd-config-keywords.js';

export interface EffectiveSshdConfig {
  passwordAuthentication: boolean;
  pubkeyAuthentication: boolean;
  permitRootLogin: PermitRootLogin;
  /** As written (tokens %h, %u, %% not yet expanded); relative entries are relative to the user's home. */
  authorizedKeysFile: string[];
  strictModes: boolean;
  maxAuthTries: number;
  /** ChallengeResponseAuthentication is its older name: one keyword, so the first of either wins. */
  kbdInteractiveAuthentication: boolean;
  /** `no`, `yes` or a pattern-list of variable names, as written. */
  permitUserEnvironment: string;
  /** Without PAM, sshd on Linux has no keyboard-interactive device: the method is offered but never succeeds. */
  usePam: boolean;
  /** RevokedKeys: a file of revoked public keys, null for `none`. */
  revokedKeys: string | null;
  /** AuthenticationMethods: chains of methods that must all succeed; null for `any` (see sshd-auth-chains.ts). */
  authenticationMethods: string[][] | null;
  /** These four are lists that every line adds to (not first-value-wins), as in sshd. */
  allowUsers: string[];
  denyUsers: string[];
  allowGroups: string[];
  denyGroups: string[];
}

export const SSHD_CONFIG_PATH = '/etc/ssh/sshd_config';

/** OpenSSH's compiled-in defaults, used for keywords no file sets. */
const DEFAULTS: EffectiveSshdConfig = {
  passwordAuthentication: true,
  pubkeyAuthentication: true,
  permitRootLogin: 'prohibit-password',
  authorizedKeysFile: ['.ssh/authorized_keys', '.ssh/authorized_keys2'],
  strictModes: true,
  maxAuthTries: 6,
  kbdInteractiveAuthentication: true,
  permitUserEnvironment: 'no',
  usePam: false,
  authenticationMethods: null,
  revokedKeys: null,
  allowUsers: [],
  denyUsers: [],
  allowGroups: [],
  denyGroups: [],
};

const ACCESS_LISTS = {
  allowusers: 'allowUsers',
  denyusers: 'denyUsers',
  allowgroups: 'allowGroups',
  denygroups: 'denyGroups',
} as const;

export async function effectiveSshdConfig(rootDir: string): Promise<EffectiveSshdConfig> {
  const found: Partial<EffectiveSshdConfig> = {};
  const lists = {
    allowUsers: [] as string[],
    denyUsers: [] as string[],
    allowGroups: [] as string[],
    denyGroups: [] as string[],
  };
  // Throws SshdConfigUnusable past the size and Include limits: the caller refuses the login.
  await walk(rootDir, SSHD_CONFIG_PATH, 0, new IncludeBudget(), (line) => {
    const key = line.keyword.toLowerCase();
    const value = line.args[0]?.toLowerCase();
    if (value === undefined) return;
    if (key in ACCESS_LISTS) {
      lists[ACCESS_LISTS[key as keyof typeof ACCESS_LISTS]].push(...line.args);
      return;
    }
    switch (key) {
      case 'passwordauthentication':
        if (found.passwordAuthentication === undefined && isFlag(value)) found.passwordAuthentication = value === 'yes';
        break;
      case 'pubkeyauthentication':
        if (found.pubkeyAuthentication === undefined && isFlag(value)) found.pubkeyAuthentication = value === 'yes';
        break;
      case 'strictmodes':
        if (found.strictModes === undefined && isFlag(value)) found.strictModes = value === 'yes';
        break;
      case 'permitrootlogin':
        if (found.permitRootLogin === undefined && isPermitRootLogin(value)) found.permitRootLogin = value;
        break;
      case 'maxauthtries':
        if (found.maxAuthTries === undefined && /^\d+$/.test(value)) found.maxAuthTries = Number(value);
        break;
      case 'kbdinteractiveauthentication':
      case 'challengeresponseauthentication':
        if (found.kbdInteractiveAuthentication === undefined && isFlag(value))
          found.kbdInteractiveAuthentication = value === 'yes';
        break;
      case 'revokedkeys':
        if (found.revokedKeys === undefined) found.revokedKeys = value === 'none' ? null : line.args[0]!;
        break;
      case 'authenticationmethods':
        if (found.authenticationMethods === undefined)
          found.authenticationMethods = parseAuthenticationMethods(line.args);
        break;
      case 'usepam':
        if (found.usePam === undefined && isFlag(value)) found.usePam = value === 'yes';
        break;
      case 'permituserenvironment':
        if (found.permitUserEnvironment === undefined) found.permitUserEnvironment = line.args[0]!;
        break;
      case 'authorizedkeysfile':
        if (found.authorizedKeysFile === undefined) found.authorizedKeysFile = value === 'none' ? [] : line.args;
        break;
    }
  });
  return { ...DEFAULTS, ...found, ...lists };
}

/** Visits every line sshd would use, in order, expanding Include; stops for good at the first Match. */
async function walk(
  rootDir: string,
  file: string,
  depth: number,
  budget: IncludeBudget,
  visit: (line: ConfigLine) => void,
): Promise<'continue' | 'stop'> {
  const lines = await readConfigLines(rootDir, file, budget);
  for (const line of lines ?? []) {
    const key = line.keyword.toLowerCase();
    if (key === 'match') return 'stop';
    if (key === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH) continue;
      for (const included of await expandIncludes(rootDir, line.args, budget)) {
        if ((await walk(rootDir, included, depth + 1, budget, visit)) === 'stop') return 'stop';
      }
      continue;
    }
    visit(line);
  }
  return 'continue';
}

/** `sshd -t`: ok, or the message sshd would print (several lines when several options are bad) before exiting 255. */
export async function validateSshdConfig(rootDir: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const messages: string[] = [];
  const budget = new IncludeBudget();
  try {
    const lines = await readConfigLines(rootDir, SSHD_CONFIG_PATH, budget);
    if (lines === null) return { ok: false, message: `${SSHD_CONFIG_PATH}: No such file or directory` };
    const outcome = await validateLines(rootDir, SSHD_CONFIG_PATH, lines, 0, budget, messages);
    return outcome === 'ok' ? { ok: true } : { ok: false, message: messages.join('\n') };
  } catch (e) {
    if (!(e instanceof SshdConfigUnusable)) throw e;
    return { ok: false, message: [...messages, e.message].join('\n') };
  }
}

/**
 * OpenSSH's order of failure: an unknown keyword or a missing argument is counted and the file is finished (so all
 * of them are listed), then sshd terminates; a bad value is fatal at once. Included files are checked where they
 * are included, so a bad drop-in stops the check before the main file's later lines.
 */
async function validateLines(
  rootDir: string,
  file: string,
  lines: ConfigLine[],
  depth: number,
  budget: IncludeBudget,
  messages: string[],
): Promise<'ok' | 'fatal'> {
  let badOptions = 0;
  for (const line of lines) {
    const where = `${line.file} line ${line.lineNo}`;
    const kind = KEYWORD_KINDS[line.keyword.toLowerCase()];
    if (kind === undefined) {
      messages.push(`${line.file}: line ${line.lineNo}: Bad configuration option: ${line.keyword}`);
      badOptions++;
      continue;
    }
    if (kind === 'deprecated') continue;
    const value = line.args[0];
    if (value === undefined && kind !== 'match') {
      messages.push(`${where}: no argument after keyword "${line.keyword}"`);
      badOptions++;
      continue;
    }
    if (value === undefined) continue;
    switch (kind) {
      case 'flag':
        if (!isFlag(value.toLowerCase())) return fatal(messages, `${where}: unsupported option "${value}".`);
        break;
      case 'permitRootLogin':
        if (!isPermitRootLogin(value.toLowerCase())) return fatal(messages, `${where}: unsupported option "${value}".`);
        break;
      case 'integer':
        if (!/^\d+$/.test(value)) return fatal(messages, `${where}: ${line.keyword} integer value invalid.`);
        break;
      case 'port':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535)
          return fatal(messages, `${where}: Badly formatted port number.`);
        break;
      case 'include': {
        if (depth >= MAX_INCLUDE_DEPTH) return fatal(messages, `${where}: Too many recursive configuration includes`);
        for (const included of await expandIncludes(rootDir, line.args, budget)) {
          const includedLines = await readConfigLines(rootDir, included, budget);
          if (includedLines === null) continue;
          const outcome = await validateLines(rootDir, included, includedLines, depth + 1, budget, messages);
          if (outcome === 'fatal') return 'fatal';
        }
        break;
      }
    }
  }
  if (badOptions > 0) return fatal(messages, `${file}: terminating, ${badOptions} bad configuration options`);
  return 'ok';
}

function fatal(messages: string[], message: string): 'fatal' {
  messages.push(message);
  return 'fatal';
}
