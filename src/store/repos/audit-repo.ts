import { sql } from 'kysely';
import type { AuditEntry, AuditRepo, AuditResult, AuditStage, NewAuditEntry } from '../../core/audit/audit.js';
import type { Face } from '../../core/caller.js';
import type { AuditEntriesTable } from '../schema.js';
import { fromMs, type RepoContext, toMs } from './common.js';

/** Rows per insert statement: 17 parameters each stays far below SQLite's and PostgreSQL's parameter limits. */
const ROWS_PER_INSERT = 50;

function rowOf(e: NewAuditEntry): AuditEntriesTable {
  return {
    id: e.id,
    account_id: e.accountId,
    at: toMs(e.at),
    user_id: e.userId,
    user_name: e.userName,
    access_key_id: e.accessKeyId,
    session_id: e.sessionId,
    face: e.face,
    source_ip: e.sourceIp,
    action: e.action,
    resources: JSON.stringify(e.resources),
    request_id: e.requestId,
    result: e.result,
    error_code: e.errorCode,
    task_id: e.taskId ?? null,
    stage: e.stage ?? 'request',
    detail: e.detail ?? null,
  };
}

/** Append-only: the repository has no update or delete. */
export function createAuditRepo({ db }: RepoContext): AuditRepo {
  return {
    async append(e) {
      await db.insertInto('audit_entries').values(rowOf(e)).execute();
    },
    async appendMany(entries) {
      for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
        await db
          .insertInto('audit_entries')
          .values(entries.slice(i, i + ROWS_PER_INSERT).map(rowOf))
          .execute();
      }
    },
    async query(f) {
      let q = db.selectFrom('audit_entries').where('account_id', '=', f.accountId);
      if (f.from) q = q.where('at', '>=', toMs(f.from));
      if (f.to) q = q.where('at', '<=', toMs(f.to));
      if (f.userName) q = q.where('user_name', '=', f.userName);
      if (f.action) q = q.where('action', '=', f.action);
      if (f.result) q = q.where('result', '=', f.result);
      if (f.stage) q = q.where('stage', '=', f.stage);
      if (f.taskId) q = q.where('task_id', '=', f.taskId);
      if (f.requestId) q = q.where('request_id', '=', f.requestId);
      if (f.resource) {
        // Resource names are stored as a JSON list of strings; match a whole element (exact or `…:type/id` suffix).
        const needle = f.resource.replace(/[\\%_"]/g, (c) => '\\' + c);
        q = q.where(
          sql<boolean>`(resources like ${'%"' + needle + '"%'} escape '\\' or resources like ${'%:' + needle + '"%'} escape '\\')`,
        );
      }
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .offset(f.offset)
        .limit(f.limit)
        .execute();
      return {
        total: Number(total.n),
        items: rows.map(
          (r): AuditEntry => ({
            id: r.id,
            at: fromMs(r.at),
            accountId: r.account_id,
            userId: r.user_id,
            userName: r.user_name,
            accessKeyId: r.access_key_id,
            sessionId: r.session_id,
            face: r.face as Face,
            sourceIp: r.source_ip,
            action: r.action,
            resources: JSON.parse(r.resources) as string[],
            requestId: r.request_id,
            result: r.result as AuditResult,
            errorCode: r.error_code,
            taskId: r.task_id ?? null,
            stage: (r.stage ?? 'request') as AuditStage,
            detail: r.detail ?? null,
          }),
        ),
      };
    },
  };
}
