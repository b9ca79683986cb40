/**
 * An on-restart dry run's preview (issue 20): what the instance's boot step would write at its next start or
 * restart, against what its files hold now. The compute backend answers both halves (ComputeBackend.previewBoot:
 * its own boot step's content, read from the machine's disk, Running or Stopped); the diffs and risks are judged by
 * the same pure code as a live dry run's (dry-run-preview.ts), worded for a change the machine applies itself.
 */
import { isCoreError } from '../errors.js';
import { bootConfigOf } from '../instance/instance-state.js';
import type { Instance } from '../instance/instance.js';
import type { KeyPair } from '../keypair/keypair.js';
import type { ComputeBackend } from '../ports.js';
import type { Task } from '../task/task.js';
import { type DryRunPreview, previewOf } from './dry-run-preview.js';
import { withDesiredKey } from './item-record.js';

/** The part of the compute backend a boot preview needs. */
export type BootPreviewer = Pick<ComputeBackend, 'kind' | 'previewBoot'>;

export type BootPreviewResult = { preview: DryRunPreview } | { unavailable: string };

/**
 * The preview of one item's change at the instance's next boot (`when`: 'its next start' or 'its next restart').
 * Reads only; never throws for what the machine holds: a machine that cannot be read answers `unavailable`.
 */
export async function previewNextBoot(
  compute: BootPreviewer | undefined,
  inst: Instance,
  task: Task,
  keyPair: KeyPair | null,
  when: string,
): Promise<BootPreviewResult> {
  if (!compute?.previewBoot || inst.backend !== compute.kind)
    return { unavailable: `keyfleet cannot read the files of a '${inst.backend}' machine before it boots` };
  const config = bootConfigOf(withDesiredKey(inst, task, keyPair));
  let files: Awaited<ReturnType<NonNullable<ComputeBackend['previewBoot']>>>;
  try {
    files = await compute.previewBoot(inst, config);
  } catch (err) {
    // A coded error says what is true of the machine (a file too large to read, a path leaving its disk); anything
    // else may carry keyfleet's own paths, so it is not repeated.
    return { unavailable: isCoreError(err) ? err.message : "the compute backend could not read the machine's files" };
  }
  if (!files) return { unavailable: "the machine's disk is not there to read (never provisioned, or deleted)" };
  return {
    preview: previewOf({
      authorizedKeysPath: files.authorizedKeys.path,
      authorizedKeysBefore: files.authorizedKeys.before,
      authorizedKeysAfter: files.authorizedKeys.after,
      authorizedKeysChanged: files.authorizedKeys.changed,
      dropInPath: files.dropIn?.path ?? null,
      dropInBefore: files.dropIn?.before ?? null,
      dropInAfter: files.dropIn?.after ?? null,
      desired: {
        key: config.publicKey ? { keyPairName: config.keyPairName ?? 'key', publicKey: config.publicKey } : null,
        passwordLogin: files.dropIn ? config.passwordLogin : null,
      },
      loginUser: inst.loginUser,
      boot: { when },
    }),
  };
}
