/**
 * The simulated sshd's authentication decisions, read fresh from the instance's files on every attempt (sshd_config
 * with its drop-ins, /etc/passwd, /etc/shadow, authorized_keys), so a change on disk applies to the next login
 * without a restart. Nothing here logs a password or key material.
 */
import ssh2 from 'ssh2';
import { accountAllowed } from './sshd-access.js';
import type { AuthChains } from './sshd-auth-chains.js';
import { isRevoked, readAuthorizedKeys } from './sshd-authorized-keys.js';
import { effectiveSshdConfig, type EffectiveSshdConfig } from './sshd-config.js';
import { keyOptionsAllow, type KeyOptions } from './sshd-key-options.js';
import { lookupUser, type GuestUser } from './sshd-passwd.js';
import { readShadowHash, verifyGuestPassword } from './shadow.js';

export type AuthMethod = 'publickey' | 'password' | 'keyboard-interactive';

export type AuthRequest =
  | { method: 'none' }
  | { method: 'password'; password: string }
  /** askPassword sends PAM's one `Password: ` prompt and resolves with the answer (null: none given). */
  | { method: 'keyboard-interactive'; askPassword: () => Promise<string | null> }
  | {
      method: 'publickey';
      keyAlgo: string;
      keyBlob: Buffer;
      hashAlgo?: string | undefined;
      signature?: Buffer | undefined;
      signedData?: Buffer | undefined;
    }
  | { method: 'other' };

export type AuthDecision =
  /** keyOptions: the options of the authorized_keys listing that let the key in (none for a password). */
  | { verdict: 'accept'; user: GuestUser; keyOptions: KeyOptions | null }
  /** A publickey query without signature names an acceptable key: the client may now sign with it. */
  | { verdict: 'key-acceptable' }
  /** The method succeeded but AuthenticationMethods wants more: `methods` may come next. */
  | { verdict: 'partial'; methods: AuthMethod[] }
  | { verdict: 'reject'; methods: AuthMethod[]; maxAuthTries: number };

export interface AuthClient {
  /** The client's address, as `from="…"` options see it (UseDNS no: no name is looked up). */
  ip: string;
}

/** Decides one attempt; `chains` is the connection's AuthenticationMethods progress, kept across its attempts. */
export async function decideAuthentication(
  rootDir: string,
  username: string,
  request: AuthRequest,
  client: AuthClient,
  chains: AuthChains,
  warn: (msg: string) => void,
): Promise<AuthDecision> {
  const config = await effectiveSshdConfig(rootDir);
  chains.init(config.authenticationMethods);
  const decision = await decide(rootDir, username, request, client, config, chains, warn);
  if (decision.verdict !== 'accept' || chains.succeeded(request.method) === 'complete') return decision;
  return { verdict: 'partial', methods: chains.next(advertisedMethods(config)) };
}

async function decide(
  rootDir: string,
  username: string,
  request: AuthRequest,
  client: AuthClient,
  config: EffectiveSshdConfig,
  chains: AuthChains,
  warn: (msg: string) => void,
): Promise<AuthDecision> {
  const account = await lookupUser(rootDir, username);
  // An account AllowUsers/DenyUsers/AllowGroups/DenyGroups refuse is handled exactly like one that does not exist.
  const user = account && (await accountAllowed(rootDir, account, config, client.ip)) ? account : null;
  const isRoot = user !== null && user.uid === 0;
  const reject: AuthDecision = {
    verdict: 'reject',
    methods: chains.next(advertisedMethods(config)),
    maxAuthTries: config.maxAuthTries,
  };
  // A method AuthenticationMethods does not allow next fails without being tried.
  if (!chains.allows(request.method)) return reject;
  if (user === null) {
    // PAM asks an unknown account for its password too, so the prompt gives nothing away.
    if (request.method === 'keyboard-interactive' && config.kbdInteractiveAuthentication && config.usePam)
      await request.askPassword();
    return reject;
  }

  const passwordAllowed = async (password: string | null) =>
    password !== null &&
    !(isRoot && config.permitRootLogin !== 'yes') &&
    (await verifyGuestPassword(rootDir, password, await readShadowHash(rootDir, user.name)));

  switch (request.method) {
    case 'password': {
      if (!config.passwordAuthentication) return reject;
      return (await passwordAllowed(request.password)) ? { verdict: 'accept', user, keyOptions: null } : reject;
    }
    case 'keyboard-interactive': {
      // PAM's conversation, which Debian's UsePAM yes gives: PasswordAuthentication does not govern it.
      if (!config.kbdInteractiveAuthentication || !config.usePam) return reject;
      return (await passwordAllowed(await request.askPassword()))
        ? { verdict: 'accept', user, keyOptions: null }
        : reject;
    }
    case 'publickey': {
      if (!config.pubkeyAuthentication || (isRoot && config.permitRootLogin === 'no')) return reject;
      // OpenSSH ≥ 8.8 no longer accepts RSA with SHA-1 (`ssh-rsa`) signatures by default; only rsa-sha2-*.
      if (request.keyAlgo === 'ssh-rsa' && !request.hashAlgo) return reject;
      // As sshd: a listing of this key whose options refuse this client now is skipped; a later listing may match.
      const use = { clientIp: client.ip, nowMs: Date.now(), permitUserEnvironment: config.permitUserEnvironment };
      if (await isRevoked(rootDir, config, request.keyBlob)) return reject;
      const keys = await readAuthorizedKeys(rootDir, user, config, warn, request.keyBlob);
      const listed = keys.find((k) => k.blob.equals(request.keyBlob) && keyOptionsAllow(k.options, use));
      if (!listed) return reject;
      if (isRoot && config.permitRootLogin === 'forced-commands-only' && listed.options.forcedCommand === null)
        return reject;
      if (!request.signature || !request.signedData) return { verdict: 'key-acceptable' };
      const publicKey = ssh2.utils.parseKey(request.keyBlob);
      if (publicKey instanceof Error) return reject;
      const key = Array.isArray(publicKey) ? publicKey[0] : publicKey;
      if (!key || key.verify(request.signedData, request.signature, request.hashAlgo) !== true) return reject;
      return { verdict: 'accept', user, keyOptions: listed.options };
    }
    default:
      return reject;
  }
}

/**
 * What a USERAUTH_FAILURE lists: every method enabled in the config, in sshd's order, whoever the user is (sshd
 * reveals neither whether the account exists nor that PermitRootLogin will refuse its password).
 */
export function advertisedMethods(config: EffectiveSshdConfig): AuthMethod[] {
  const methods: AuthMethod[] = [];
  if (config.pubkeyAuthentication) methods.push('publickey');
  if (config.passwordAuthentication) methods.push('password');
  if (config.kbdInteractiveAuthentication) methods.push('keyboard-interactive');
  return methods;
}
