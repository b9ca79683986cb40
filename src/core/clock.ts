/** Clock and IdGen are injected so that tests control time and identifiers; the core never calls Date.now(). */
export interface Clock {
  now(): Date;
}

export interface IdGen {
  /** A new identifier with the given prefix, e.g. `i-` + 20 lower-case characters. */
  next(prefix: string, length?: number): string;
  uuid(): string;
}
