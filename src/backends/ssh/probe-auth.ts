/**
 * The publickey probe: asks a server, without any private key, whether it would accept a public key for a user.
 * A 'none' attempt first yields the methods still offered; then an agent that can never sign offers the key, and
 * ssh2 asks it to sign only after the server answered PK_OK.
 */
import ssh2 from 'ssh2';
import type { ParsedKey, SignCallback, SigningRequestOptions } from 'ssh2';
import { CoreError } from '../../core/errors.js';
import type { AuthStep } from './dial.js';
import { firstKey } from './login-key.js';

const { BaseAgent, utils } = ssh2;

export interface ProbeAnswer {
  methods: string[];
  keyAccepted: boolean | null;
  /** Set when the probe ran to its end (both questions asked), rather than the server cutting it short. */
  complete: boolean;
}

/** 'none' (to learn the methods), then a publickey query through an agent that can never sign. */
export function probeAuth(username: string, publicKey: ParsedKey | null, answer: ProbeAnswer): AuthStep {
  let step: 'none' | 'key' | 'done' = 'none';
  return (methodsLeft) => {
    if (step === 'none') {
      step = 'key';
      return { type: 'none', username };
    }
    if (step === 'key') {
      step = 'done';
      answer.methods = [...(methodsLeft ?? [])];
      if (publicKey && answer.methods.includes('publickey')) {
        return { type: 'agent', username, agent: new QueryOnlyAgent(publicKey, () => (answer.keyAccepted = true)) };
      }
    }
    answer.complete = true;
    return false;
  };
}

/**
 * Offers one public key and refuses to sign. ssh2 asks an agent to sign only after the server answered the
 * query with PK_OK, so a sign request is exactly "the server would accept this key".
 */
class QueryOnlyAgent extends BaseAgent<ParsedKey> {
  constructor(
    private readonly key: ParsedKey,
    private readonly onPkOk: () => void,
  ) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }

  sign(
    _pubKey: ParsedKey,
    _data: Buffer,
    optionsOrCb: SigningRequestOptions | SignCallback,
    maybeCb?: SignCallback,
  ): void {
    this.onPkOk();
    const cb = typeof optionsOrCb === 'function' ? optionsOrCb : maybeCb;
    cb?.(new Error('keyfleet probe: query only, no signature'));
  }
}

export function parsePublicKey(line: string): ParsedKey {
  const parsed = firstKey(utils.parseKey(line.trim()));
  if (!parsed || parsed.isPrivateKey())
    throw new CoreError('PublicKey.Malformed', 'The public key to probe is not a valid OpenSSH public key line.');
  return parsed;
}
