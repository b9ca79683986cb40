/**
 * What the contract cases ask an sshd, through ssh2's Client where the OpenSSH client cannot ask it: the methods a
 * USERAUTH_FAILURE lists after a `none` attempt, whether an unsigned publickey query gets PK_OK, and whether a
 * pty request is granted.
 */
import fs from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

export interface Endpoint {
  address: string;
  port: number;
  user: string;
}

const READY_TIMEOUT_MS = 5000;

/** ssh2's authHandler, with `false` (stop trying; ssh2 accepts it, its types do not list it) allowed. */
type StepwiseAuth = (
  methodsLeft: string[] | null,
  partial: boolean | null,
  next: (method: ssh2.AnyAuthMethod | 'none' | false) => void,
) => void;

function connectStepwise(client: ssh2.Client, ep: Endpoint, authHandler: StepwiseAuth): void {
  client.connect({
    host: ep.address,
    port: ep.port,
    username: ep.user,
    readyTimeout: READY_TIMEOUT_MS,
    authHandler: authHandler as never,
  });
}

/** The methods the server lists in its answer to `none` (what `ssh -v` logs as "Authentications that can continue"). */
export function methodsAfterNone(ep: Endpoint): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let methods: string[] | null = null;
    client.on('error', (err) => {
      client.end();
      if (methods) resolve(methods);
      else reject(err);
    });
    client.on('ready', () => {
      client.end();
      reject(new Error('the server let `none` log in'));
    });
    connectStepwise(client, ep, (methodsLeft, _partial, next) => {
      if (methodsLeft === null) return next('none');
      methods = [...methodsLeft];
      return next(false);
    });
  });
}

/**
 * Keeps trying a wrong password until the server hangs up (at most `limit` tries): how many USERAUTH_FAILUREs came
 * back before that, and the error the client saw when the connection ended.
 */
export function failuresUntilDisconnect(ep: Endpoint, limit: number): Promise<{ failures: number; error: string }> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let failures = 0;
    let tries = 0;
    const done = (error: string) => {
      client.end();
      resolve({ failures, error });
    };
    client.on('error', (err) => done(err.message));
    client.on('close', () => done('closed'));
    client.on('ready', () => done('logged in'));
    connectStepwise(client, ep, (methodsLeft, _partial, next) => {
      if (methodsLeft !== null) failures++;
      if (++tries > limit) return next(false);
      return next({ type: 'password', username: ep.user, password: `wrong ${tries}` });
    });
  });
}

/**
 * Logs in with the key, then (if the server wants more) the password: whether that logged in, and what the server
 * answered to the key (partial success or not, and the methods it listed).
 */
export async function keyThenPassword(
  ep: Endpoint,
  privateKeyPath: string,
  password: string,
): Promise<{ loggedIn: boolean; afterKey: { partial: boolean; methods: string[] } | null }> {
  const privateKey = await fs.readFile(privateKeyPath);
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let afterKey: { partial: boolean; methods: string[] } | null = null;
    let step = 0;
    const done = (loggedIn: boolean) => {
      client.end();
      resolve({ loggedIn, afterKey });
    };
    client.on('ready', () => done(true));
    client.on('error', () => done(false));
    connectStepwise(client, ep, (methodsLeft, partial, next) => {
      step++;
      if (step === 1) return next({ type: 'publickey', username: ep.user, key: privateKey });
      if (step === 2) {
        afterKey = { partial: partial === true, methods: [...(methodsLeft ?? [])] };
        return next({ type: 'password', username: ep.user, password });
      }
      return next(false);
    });
  });
}

/** Tries keyboard-interactive alone, answering every prompt with `answer`: whether it logged in, and what was asked. */
export function keyboardInteractiveLogin(
  ep: Endpoint,
  answer: string,
): Promise<{ loggedIn: boolean; prompts: ssh2.Prompt[] }> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    const prompts: ssh2.Prompt[] = [];
    const done = (loggedIn: boolean) => {
      client.end();
      resolve({ loggedIn, prompts });
    };
    client.on('keyboard-interactive', (_name, _instructions, _lang, asked, finish) => {
      prompts.push(...asked);
      finish(asked.map(() => answer));
    });
    client.on('ready', () => done(true));
    client.on('error', () => done(false));
    client.connect({
      host: ep.address,
      port: ep.port,
      username: ep.user,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      readyTimeout: READY_TIMEOUT_MS,
    });
  });
}

/** An agent that lists one public key but cannot sign: only the server's answer to the unsigned query matters. */
export class ListOnlyAgent extends ssh2.BaseAgent {
  signAttempts = 0;
  constructor(private readonly key: ParsedKey) {
    super();
  }
  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }
  override sign(
    _pubKey: ParsedKey,
    _data: Buffer,
    options: unknown,
    cb?: (err: Error | undefined, signature?: Buffer) => void,
  ): void {
    this.signAttempts++;
    const callback = typeof options === 'function' ? (options as typeof cb) : cb;
    callback?.(new Error('this agent holds no private key'));
  }
}

/** True when the server answers an unsigned publickey query for `publicKeyLine` with PK_OK (the client then signs). */
export async function publickeyQueryAccepted(ep: Endpoint, publicKeyLine: string): Promise<boolean> {
  const parsed = ssh2.utils.parseKey(publicKeyLine);
  if (parsed instanceof Error) throw parsed;
  const agent = new ListOnlyAgent(Array.isArray(parsed) ? parsed[0]! : parsed);
  await new Promise<void>((resolve) => {
    const client = new ssh2.Client();
    const done = () => {
      client.end();
      resolve();
    };
    client.on('ready', done);
    client.on('error', done);
    client.connect({
      host: ep.address,
      port: ep.port,
      username: ep.user,
      agent,
      authHandler: ['agent'],
      readyTimeout: READY_TIMEOUT_MS,
    });
  });
  return agent.signAttempts > 0;
}

/** Logs in with the key, runs `command` with a pty requested: whether the pty was granted, and what the command printed. */
export async function execWithPty(
  ep: Endpoint,
  privateKeyPath: string,
  command: string,
): Promise<{ ptyGranted: boolean; output: string }> {
  const privateKey = await fs.readFile(privateKeyPath);
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({ host: ep.address, port: ep.port, username: ep.user, privateKey, readyTimeout: READY_TIMEOUT_MS });
  });
  try {
    const withPty = await execOnce(client, command, true);
    if (withPty.ok) return { ptyGranted: true, output: withPty.output };
    // ssh2 gives up on the channel when the pty is refused; OpenSSH's client carries on without one, as here.
    const without = await execOnce(client, command, false);
    return { ptyGranted: false, output: without.output };
  } finally {
    client.end();
  }
}

function execOnce(client: ssh2.Client, command: string, pty: boolean): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    client.exec(command, pty ? { pty: { term: 'dumb', rows: 24, cols: 80 } } : {}, (err, channel) => {
      if (err) return resolve({ ok: false, output: '' });
      let output = '';
      channel.on('data', (b: Buffer) => (output += b.toString('utf8')));
      channel.stderr.on('data', () => {});
      channel.on('close', () => resolve({ ok: true, output }));
    });
  });
}
