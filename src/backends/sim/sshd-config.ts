/**
 * How the simulated sshd reads /etc/ssh/sshd_config, following OpenSSH's rules rather than keyfleet's wishes, so a
 * drop-in that would not work on a real Debian host does not work here either:
 * - keywords are case-insensitive, `Keyword value` or `Keyword=value`; `#` starts a comment;
 * - the FIRST value obtained for a keyword wins, except AllowUsers/DenyUsers/AllowGroups/DenyGroups, whose lines
 *   all add to one list;
 * - `Include` is expanded where it appears (relative paths against /etc/ssh, glob results in lexical order);
 * - reading stops at the first `Match` line (the sim evaluates no Match criteria).
 *
 * effectiveSshdConfig is lenient (a line it cannot use is skipped) because it answers "what would a running sshd
 * do"; validateSshdConfig is strict and answers `sshd -t` with OpenSSH's messages and fatal-error order.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hostPath } from './rootfs.js';
import { parseAuthenticationMethods } from './sshd-auth-chains.js';

export type PermitRootLogin = 'yes' | 'no' | 'prohibit-password' | 'without-password' | 'forced-commands-only';

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

type ValueKind = 'flag' | 'integer' | 'port' | 'permitRootLogin' | 'text' | 'include' | 'match' | 'deprecated';

const KEYWORD_KINDS: Record<string, ValueKind> = {};
const declare = (kind: ValueKind, names: string[]) => names.forEach((n) => (KEYWORD_KINDS[n.toLowerCase()] = kind));
declare('flag', [
  'PasswordAuthentication',
  'PubkeyAuthentication',
  'KbdInteractiveAuthentication',
  'ChallengeResponseAuthentication',
  'UsePAM',
  'X11Forwarding',
  'X11UseLocalhost',
  'PrintMotd',
  'PrintLastLog',
  'PermitEmptyPasswords',
  'StrictModes',
  'UseDNS',
  'TCPKeepAlive',
  'HostbasedAuthentication',
  'HostbasedUsesNameFromPacketOnly',
  'IgnoreRhosts',
  'IgnoreUserKnownHosts',
  'GSSAPIAuthentication',
  'GSSAPICleanupCredentials',
  'GSSAPIStrictAcceptorCheck',
  'KerberosAuthentication',
  'KerberosOrLocalPasswd',
  'KerberosTicketCleanup',
  'PermitTTY',
  'PermitUserRC',
  'ExposeAuthInfo',
  'DisableForwarding',
  'AllowAgentForwarding',
  'StreamLocalBindUnlink',
  'DebianBanner',
]);
declare('integer', ['MaxAuthTries', 'MaxSessions', 'ClientAliveCountMax', 'X11DisplayOffset', 'RequiredRSASize']);
declare('port', ['Port']);
declare('permitRootLogin', ['PermitRootLogin']);
declare('include', ['Include']);
declare('match', ['Match']);
declare('deprecated', [
  'UsePrivilegeSeparation',
  'Protocol',
  'RSAAuthentication',
  'RhostsRSAAuthentication',
  'UseLogin',
  'KeyRegenerationInterval',
  'ServerKeyBits',
]);
declare('text', [
  'AcceptEnv',
  'AddressFamily',
  'AllowGroups',
  'AllowStreamLocalForwarding',
  'AllowTcpForwarding',
  'AllowUsers',
  'AuthenticationMethods',
  'AuthorizedKeysCommand',
  'AuthorizedKeysCommandUser',
  'AuthorizedKeysFile',
  'AuthorizedPrincipalsCommand',
  'AuthorizedPrincipalsCommandUser',
  'AuthorizedPrincipalsFile',
  'Banner',
  'CASignatureAlgorithms',
  'ChannelTimeout',
  'ChrootDirectory',
  'Ciphers',
  'ClientAliveInterval',
  'Compression',
  'DenyGroups',
  'DenyUsers',
  'FingerprintHash',
  'ForceCommand',
  'GatewayPorts',
  'HostbasedAcceptedAlgorithms',
  'HostCertificate',
  'HostKey',
  'HostKeyAgent',
  'HostKeyAlgorithms',
  'IPQoS',
  'KexAlgorithms',
  'ListenAddress',
  'LoginGraceTime',
  'LogLevel',
  'LogVerbose',
  'MACs',
  'MaxStartups',
  'ModuliFile',
  'PermitListen',
  'PermitOpen',
  'PermitTunnel',
  'PermitUserEnvironment',
  'PerSourceMaxStartups',
  'PerSourceNetBlockSize',
  'PidFile',
  'PubkeyAcceptedAlgorithms',
  'PubkeyAcceptedKeyTypes',
  'PubkeyAuthOptions',
  'RDomain',
  'RekeyLimit',
  'RevokedKeys',
  'SecurityKeyProvider',
  'SetEnv',
  'StreamLocalBindMask',
  'Subsystem',
  'SyslogFacility',
  'TrustedUserCAKeys',
  'UnusedConnectionTimeout',
  'VersionAddendum',
  'XAuthLocation',
]);

const PERMIT_ROOT_LOGIN_VALUES: readonly PermitRootLogin[] = [
  'yes',
  'no',
  'prohibit-password',
  'without-password',
  'forced-commands-only',
];
const MAX_INCLUDE_DEPTH = 16;

interface ConfigLine {
  file: string;
  lineNo: number;
  keyword: string;
  args: string[];
}

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
  await walk(rootDir, SSHD_CONFIG_PATH, 0, (line) => {
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
  visit: (line: ConfigLine) => void,
): Promise<'continue' | 'stop'> {
  const lines = await readConfigLines(rootDir, file);
  for (const line of lines ?? []) {
    const key = line.keyword.toLowerCase();
    if (key === 'match') return 'stop';
    if (key === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH) continue;
      for (const included of await expandIncludes(rootDir, line.args)) {
        if ((await walk(rootDir, included, depth + 1, visit)) === 'stop') return 'stop';
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
  const lines = await readConfigLines(rootDir, SSHD_CONFIG_PATH);
  if (lines === null) return { ok: false, message: `${SSHD_CONFIG_PATH}: No such file or directory` };
  const outcome = await validateLines(rootDir, SSHD_CONFIG_PATH, lines, 0, messages);
  return outcome === 'ok' ? { ok: true } : { ok: false, message: messages.join('\n') };
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
        for (const included of await expandIncludes(rootDir, line.args)) {
          const includedLines = await readConfigLines(rootDir, included);
          if (includedLines === null) continue;
          if ((await validateLines(rootDir, included, includedLines, depth + 1, messages)) === 'fatal') return 'fatal';
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

/** Parsed lines of a guest config file, or null when it cannot be read (or lies outside the instance). */
async function readConfigLines(rootDir: string, guestFile: string): Promise<ConfigLine[] | null> {
  let content: string;
  try {
    content = await fsp.readFile(hostPath(rootDir, guestFile), 'utf8');
  } catch {
    return null;
  }
  const lines: ConfigLine[] = [];
  content.split('\n').forEach((raw, index) => {
    const parsed = tokenizeLine(raw);
    if (parsed) lines.push({ file: guestFile, lineNo: index + 1, ...parsed });
  });
  return lines;
}

/** `Keyword value…` or `Keyword=value…`; double quotes group; a token starting with `#` ends the line. */
export function tokenizeLine(raw: string): { keyword: string; args: string[] } | null {
  const line = raw.replace(/^[ \t\r]+/, '');
  if (line === '' || line.startsWith('#')) return null;
  const head = /^([^ \t\r=]+)[ \t\r]*(?:=[ \t\r]*)?/.exec(line);
  if (!head) return null;
  const args: string[] = [];
  const rest = line.slice(head[0].length);
  const token = /"([^"]*)"|([^ \t\r"]+)/g;
  for (let m = token.exec(rest); m !== null; m = token.exec(rest)) {
    const value = m[1] ?? m[2]!;
    if (m[2] !== undefined && value.startsWith('#')) break;
    args.push(value);
  }
  return { keyword: head[1]!, args };
}

/** Guest paths named by an Include line: relative to /etc/ssh, each pattern's matches sorted, as glob(3) does. */
async function expandIncludes(rootDir: string, patterns: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    const absolute = pattern.startsWith('/') ? pattern : path.posix.join('/etc/ssh', pattern);
    files.push(...(await expandGlob(rootDir, absolute)));
  }
  return files;
}

async function expandGlob(rootDir: string, guestPattern: string): Promise<string[]> {
  let candidates = ['/'];
  for (const part of guestPattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!/[*?[]/.test(part)) {
        next.push(path.posix.join(dir, part));
        continue;
      }
      const matcher = globComponentToRegExp(part);
      let names: string[];
      try {
        names = await fsp.readdir(hostPath(rootDir, dir));
      } catch {
        continue;
      }
      names
        .filter((name) => matcher.test(name) && (part.startsWith('.') || !name.startsWith('.')))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .forEach((name) => next.push(path.posix.join(dir, name)));
    }
    candidates = next;
  }
  const existing: string[] = [];
  for (const candidate of candidates) {
    try {
      const stat = await fsp.stat(hostPath(rootDir, candidate));
      if (stat.isFile()) existing.push(candidate);
    } catch {
      // glob(3) names only what exists; an unmatched Include is not an error for sshd either.
    }
  }
  return existing;
}

function globComponentToRegExp(part: string): RegExp {
  let source = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        const body = part
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function isFlag(value: string): value is 'yes' | 'no' {
  return value === 'yes' || value === 'no';
}

function isPermitRootLogin(value: string): value is PermitRootLogin {
  return (PERMIT_ROOT_LOGIN_VALUES as readonly string[]).includes(value);
}
