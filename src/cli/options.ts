export interface GlobalOptions {
  endpoint: string;
  region: string;
  json: boolean;
  user?: string;
}

/** Exit codes scripts can trust. */
export const EXIT = { ok: 0, error: 1, usage: 2, partial: 3, unreachable: 4 } as const;
