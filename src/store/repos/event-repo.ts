import type { BindingEvent, BindingEventRepo } from '../../core/ports.js';
import { fromMs, type RepoContext, toMs } from './common.js';

export function createBindingEventRepo({ db }: RepoContext): BindingEventRepo {
  return {
    async insert(e) {
      await db
        .insertInto('binding_events')
        .values({
          task_id: e.taskId,
          seq: e.seq,
          instance_id: e.instanceId,
          account_id: e.accountId,
          action: e.action,
          key_pair_id: e.keyPairId,
          key_pair_name: e.keyPairName,
          mode: e.mode,
          at: toMs(e.at),
        })
        .execute();
    },
    async forInstance(accountId, instanceId) {
      const rows = await db
        .selectFrom('binding_events')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('instance_id', '=', instanceId)
        .orderBy('at')
        .execute();
      return rows.map(
        (r): BindingEvent => ({
          taskId: r.task_id,
          seq: Number(r.seq),
          instanceId: r.instance_id,
          accountId: r.account_id,
          action: r.action as BindingEvent['action'],
          keyPairId: r.key_pair_id,
          keyPairName: r.key_pair_name,
          mode: r.mode as BindingEvent['mode'],
          at: fromMs(r.at),
        }),
      );
    },
    async countByTask(taskId) {
      const r = await db
        .selectFrom('binding_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
