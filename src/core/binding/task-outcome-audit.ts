/**
 * What a task came to, in the audit trail. The request entry a gate writes when a bind or unbind is submitted says
 * only that the submission was accepted; the task may still fail on every instance (a live unbind with the wrong
 * private key). When the task ends, its outcome is recorded as entries of their own, stage 'outcome', under the
 * submission's action, user, face, request id and task id, so "which unbinds of key X failed last week" is one
 * query (action keypair:Unbind, resource keypair/X, stage outcome, result failure) and a failed change is never
 * recorded only as a success.
 *
 * Each entry names the key pair and the instances it is about, and its result is true of every instance it names,
 * so a search by instance never finds a success entry for an instance that failed:
 *   - one failure entry per failed instance, with the item's error code and message (the first MAX_FAILURE_ENTRIES);
 *   - past that, the remaining failures grouped by error code, INSTANCES_PER_ENTRY instances per entry;
 *   - the succeeded instances, INSTANCES_PER_ENTRY per success entry, with what the task came to overall.
 * A 10,000-instance task so writes at most a few hundred entries, in one transaction with the task's end.
 */
import type { AuditResult, NewAuditEntry } from '../audit/audit.js';
import { MAX_RESOURCES, resourceNames } from '../audit/auditor.js';
import type { ResourceRef } from '../authz/actions.js';
import type { Face } from '../caller.js';
import type { Clock, IdGen } from '../clock.js';
import type { Repos } from '../ports.js';
import type { Task, TaskItem, TaskItemStatus, TaskKind } from '../task/task.js';
import { ref } from '../usecase/use-case.js';

/** Failed instances recorded one entry each, with their own message; the rest are grouped by error code. */
export const MAX_FAILURE_ENTRIES = 100;
/** Instances named by one grouped (success or overflow failure) entry: with the key pair, every name fits. */
export const INSTANCES_PER_ENTRY = MAX_RESOURCES - 1;
/** Items read per page while the outcome is gathered. */
const PAGE = 1000;

/** The action a task's outcome is recorded under: the one its submission was authorized and audited as. */
export const OUTCOME_ACTION: Record<TaskKind, string> = {
  bind: 'keypair:Bind',
  unbind: 'keypair:Unbind',
  import: 'instance:Create',
};

const DONE: Record<TaskKind, string> = { bind: 'bind', unbind: 'unbind', import: 'import' };

export interface TaskOutcomeDeps {
  ids: IdGen;
  clock: Clock;
}

/** Writes the outcome entries of a finished task; called once, in the transaction that marks the task finished. */
export async function recordTaskOutcome(tx: Repos, task: Task, deps: TaskOutcomeDeps): Promise<void> {
  const failed = await itemsOf(tx, task.id, 'failed');
  const succeeded = await itemsOf(tx, task.id, 'succeeded');
  const at = deps.clock.now();
  const entry = (
    refs: ResourceRef[],
    result: AuditResult,
    errorCode: string | null,
    detail: string,
  ): NewAuditEntry => ({
    id: deps.ids.next('ev-', 20),
    at,
    accountId: task.accountId,
    userId: task.createdBy,
    userName: task.submitter?.userName ?? task.createdBy,
    accessKeyId: task.submitter?.accessKeyId ?? null,
    sessionId: task.submitter?.sessionId ?? null,
    face: task.face as Face,
    sourceIp: task.submitter?.sourceIp ?? '',
    action: OUTCOME_ACTION[task.kind],
    resources: resourceNames(task.accountId, [...keyPairRefs(task), ...refs]),
    requestId: task.requestId,
    result,
    errorCode,
    taskId: task.id,
    stage: 'outcome',
    detail,
  });
  const instances = (items: readonly TaskItem[]) =>
    items.filter((i) => i.instanceId !== '').map((i) => ref.instance(task.regionId, i.instanceId));

  const entries: NewAuditEntry[] = [];
  const oneByOne = failed.slice(0, MAX_FAILURE_ENTRIES);
  for (const item of oneByOne)
    entries.push(
      entry(
        instances([item]),
        'failure',
        item.errorCode ?? 'Internal',
        unnamed(item) + (item.errorMessage ?? `The ${DONE[task.kind]} failed on this instance.`),
      ),
    );
  const rest = failed.slice(MAX_FAILURE_ENTRIES);
  for (const [code, items] of groupBy(rest, (i) => i.errorCode ?? 'Internal')) {
    for (const part of chunks(items, INSTANCES_PER_ENTRY))
      entries.push(
        entry(
          instances(part),
          'failure',
          code,
          `${plural(part.length, 'more instance')} failed with ${code} (the first ${MAX_FAILURE_ENTRIES} failures ` +
            `have an entry each; every message is in the task's results), e.g.: ${part[0]?.errorMessage ?? code}`,
        ),
      );
  }
  for (const part of chunks(succeeded, INSTANCES_PER_ENTRY))
    entries.push(entry(instances(part), 'success', null, successDetail(task, succeeded.length, failed.length, part)));
  if (entries.length === 0)
    // A task with no item that ended (nothing to do): still say that it ended.
    entries.push(entry([], 'success', null, `${modeText(task)} ${DONE[task.kind]} ended with no instance changed`));
  await tx.audit.appendMany(entries);
}

/**
 * For an item with no instance (an import's host that was never registered), who it was about, from its payload:
 * "Host 'web-1' at 10.0.0.5:22 (inventory line 3): ", so the failure entry says which host failed.
 */
function unnamed(item: TaskItem): string {
  const p = item.payload;
  if (item.instanceId !== '' || !p || typeof p.address !== 'string') return '';
  const name = typeof p.name === 'string' ? `'${p.name}' ` : '';
  const port = typeof p.port === 'number' ? p.port : 22;
  const line = typeof p.line === 'number' ? ` (inventory line ${p.line})` : '';
  return `Host ${name}at ${p.address}:${port}${line}: `;
}

function keyPairRefs(task: Task): ResourceRef[] {
  return task.keyPairName ? [ref.keyPair(task.regionId, task.keyPairName)] : [];
}

function modeText(task: Task): string {
  if (task.kind === 'import') return 'live';
  return task.mode === 'live' ? 'live' : 'on-restart';
}

/** 'live unbind succeeded on 2 of 3 instances; 1 failed: verified by login'. */
function successDetail(task: Task, ok: number, failed: number, part: readonly TaskItem[]): string {
  let text = `${modeText(task)} ${DONE[task.kind]} succeeded on ${ok} of ${plural(ok + failed, 'instance')}`;
  if (failed > 0) text += `; ${failed} failed (see this task's failure entries)`;
  if (task.options.dryRun) text += '; dry run: nothing was changed';
  // The instances' own note when they share one ('verified by login', 'takes effect at the next restart').
  const notes = new Set(part.map((i) => i.note).filter((n): n is string => !!n));
  if (notes.size === 1) text += `: ${[...notes][0]}`;
  else if (task.kind !== 'import' && task.mode === 'on-restart') text += ': takes effect at the next start or restart';
  return text;
}

async function itemsOf(tx: Repos, taskId: string, status: TaskItemStatus): Promise<TaskItem[]> {
  const all: TaskItem[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await tx.tasks.items(taskId, { status, offset, limit: PAGE });
    all.push(...page.items);
    if (page.items.length < PAGE) return all;
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
