/** What a face asks of the binding module: bind or unbind a key pair on a batch of instances. */
import { CoreError } from '../errors.js';
import type { LiveCredential } from '../ports.js';
import type { TaskKind, TaskMode, TaskOptions } from '../task/task.js';

export interface BindRequest {
  regionId: string;
  kind: TaskKind;
  /** Required to bind; optional to unbind (then whatever is bound is removed). */
  keyPairName?: string;
  instanceIds: unknown;
  mode: TaskMode;
  /** For live changes to running machines: kept sealed for this task's lifetime only (credential-custody.ts), never in plaintext, never logged. */
  credential?: LiveCredential;
  options?: TaskOptions;
  /**
   * When the binding ends (native API, CLI, console): an ISO time or a duration (expiry.ts). The cloud faces give
   * neither, so their bindings do not expire.
   */
  expiresAt?: unknown;
  expiresIn?: unknown;
  /** Largest batch the calling face allows (the clouds allow 50). */
  maxBatch: number;
  /**
   * Conditions checked when the task is made, for faces that refuse a server up front rather than in its task
   * (KPS batch-associate: Running servers without a key pair). The gate authorizes each instance first, so a
   * refusal tells nothing about an instance the caller may not change.
   */
  require?: { running?: boolean; unbound?: boolean };
}

export const DEFAULT_MAX_BATCH = 50;
const INSTANCE_ID_MAX = 64;

/** Validates a batch of instance IDs: the request-level errors that change nothing. */
export function validateInstanceIds(raw: unknown, maxBatch: number): string[] {
  if (!Array.isArray(raw))
    throw new CoreError('Batch.Malformed', 'InstanceIds must be a list of instance IDs.', { parameter: 'InstanceIds' });
  if (raw.length === 0)
    throw new CoreError('Batch.Empty', 'Give at least one instance ID.', { parameter: 'InstanceIds' });
  if (raw.length > maxBatch) {
    throw new CoreError(
      'Batch.TooLarge',
      `At most ${maxBatch} instances can be changed in one call; ${raw.length} were given.`,
      { parameter: 'InstanceIds', limit: maxBatch },
    );
  }
  for (const id of raw) {
    if (typeof id !== 'string' || id.trim() === '' || id.length > INSTANCE_ID_MAX || /\s/.test(id)) {
      // Only a string is quoted back: String() of a deeply nested array (from a face's JSON) overflows the stack.
      const shown = typeof id === 'string' ? `'${id.slice(0, 80)}'` : `A ${Array.isArray(id) ? 'list' : typeof id}`;
      throw new CoreError('Batch.Malformed', `${shown} is not a valid instance ID.`, {
        parameter: 'InstanceIds',
      });
    }
  }
  const ids = raw as string[];
  const dup = ids.find((id, n) => ids.indexOf(id) !== n);
  if (dup)
    throw new CoreError('Batch.DuplicateIds', `The instance ID '${dup}' is given more than once.`, {
      parameter: 'InstanceIds',
      instanceId: dup,
    });
  return ids;
}
