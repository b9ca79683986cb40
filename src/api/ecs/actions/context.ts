import type { Caller } from '../../../core/caller.js';
import type { Core } from '../../../core/index.js';
import type { Params } from '../params.js';

/** What an operation gets: the core, the authenticated caller and the request's parameters. */
export interface ActionContext {
  core: Core;
  caller: Caller;
  params: Params;
  /** The Host the client addressed (its configured endpoint): every region is served there. */
  endpoint: string;
}

/** An operation returns its response fields; the plugin adds RequestId and the envelope. */
export type ActionHandler = (ctx: ActionContext) => Promise<Record<string, unknown>>;
