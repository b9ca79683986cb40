/**
 * AuthenticationMethods for one connection, as sshd's auth2.c keeps it: each chain is a list of methods that must
 * all succeed, in order. A method may be tried only when it is next in some chain; when it succeeds it is taken off
 * the front of every chain it heads; an emptied chain means logged in, otherwise the client hears "partial
 * success" and the methods that can come next. `any` (the default) means no chains: one success logs in.
 * The chains are fixed from the config read at the connection's first attempt, as sshd sets them up once.
 */
export class AuthChains {
  private chains: string[][] | null | undefined;

  /** Takes the configured chains the first time only. */
  init(configured: string[][] | null): void {
    if (this.chains === undefined) this.chains = configured?.map((chain) => [...chain]) ?? null;
  }

  allows(method: string): boolean {
    return !this.chains || this.chains.some((chain) => chain[0] === method);
  }

  /** Of these methods, the ones that may come next, in the order given. */
  next<M extends string>(methods: M[]): M[] {
    return methods.filter((m) => this.allows(m));
  }

  /** Records a successful method: 'complete' once some chain is done, else 'partial'. */
  succeeded(method: string): 'complete' | 'partial' {
    if (!this.chains) return 'complete';
    for (const chain of this.chains) if (chain[0] === method) chain.shift();
    return this.chains.some((chain) => chain.length === 0) ? 'complete' : 'partial';
  }
}

/** `AuthenticationMethods` arguments: null for `any`; submethods (`keyboard-interactive:pam`) name their method. */
export function parseAuthenticationMethods(args: string[]): string[][] | null {
  if (args.length === 1 && args[0]!.toLowerCase() === 'any') return null;
  return args.map((chain) => chain.split(',').map((method) => method.split(':')[0]!));
}
