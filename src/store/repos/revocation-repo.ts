/**
 * Revocations and their machines (issue 19). `claimDue` leases a due revocation to one process: on PostgreSQL with
 * FOR UPDATE SKIP LOCKED, as the outbox claims deliveries, so in a cluster each revocation is worked on by exactly
 * one process at a time; every write of a machine's outcome checks the lease in the same statement.
 */
import { sql } from 'kysely';
import {
  emptyCounts,
  type KeyCopy,
  type MachineState,
  type Revocation,
  type RevocationMachine,
  type RevocationRepo,
  type RevocationStatus,
} from '../../core/revocation/revocation.js';
import type { RevocationMachinesTable, RevocationsTable } from '../schema.js';
import { bool, fromMs, fromMsOrNull, int, type RepoContext, toMs } from './common.js';

const msOrNull = (d: Date | null): number | null => (d ? toMs(d) : null);

function revocationRow(r: Revocation): RevocationsTable {
  return {
    id: r.id,
    account_id: r.accountId,
    region_id: r.regionId,
    status: r.status,
    target: JSON.stringify(r.target),
    key_base64: r.key.base64,
    key_json: JSON.stringify(r.key),
    key_pair_names: JSON.stringify(r.keyPairNames),
    include_unmanaged: int(r.includeUnmanaged),
    retry_until: msOrNull(r.retryUntil),
    created_by: r.createdBy,
    submitter: JSON.stringify(r.submitter),
    face: r.face,
    request_id: r.requestId,
    created_at: toMs(r.createdAt),
    applied_at: msOrNull(r.appliedAt),
    finished_at: msOrNull(r.finishedAt),
    next_run_at: msOrNull(r.nextRunAt),
    machine_count: r.machineCount,
    counts: JSON.stringify(r.counts),
    lease_owner: null,
    lease_until: null,
  };
}

function revocationFromRow(r: RevocationsTable): Revocation {
  return {
    id: r.id,
    accountId: r.account_id,
    regionId: r.region_id,
    status: r.status as RevocationStatus,
    target: JSON.parse(r.target),
    key: JSON.parse(r.key_json),
    keyPairNames: JSON.parse(r.key_pair_names),
    includeUnmanaged: bool(r.include_unmanaged),
    retryUntil: fromMsOrNull(r.retry_until),
    createdBy: r.created_by,
    submitter: JSON.parse(r.submitter),
    face: r.face,
    requestId: r.request_id,
    createdAt: fromMs(r.created_at),
    appliedAt: fromMsOrNull(r.applied_at),
    finishedAt: fromMsOrNull(r.finished_at),
    nextRunAt: fromMsOrNull(r.next_run_at),
    machineCount: Number(r.machine_count),
    counts: JSON.parse(r.counts),
  };
}

function machineRow(m: RevocationMachine): RevocationMachinesTable {
  return {
    revocation_id: m.revocationId,
    seq: m.seq,
    instance_id: m.instanceId,
    backend: m.backend,
    name: m.name,
    address: m.address,
    ssh_port: m.sshPort,
    bound_key_pair_name: m.boundKeyPairName,
    copies: JSON.stringify(m.copies),
    users: JSON.stringify(m.users),
    files: JSON.stringify(m.files),
    scan_error: m.scanError,
    state: m.state,
    detail: m.detail,
    verified_at: msOrNull(m.verifiedAt),
    attempts: m.attempts,
    next_attempt_at: msOrNull(m.nextAttemptAt),
    unbind_task_id: m.unbindTaskId,
    removed_lines: m.removedLines,
    updated_at: toMs(m.updatedAt),
  };
}

function machineFromRow(r: RevocationMachinesTable): RevocationMachine {
  return {
    revocationId: r.revocation_id,
    seq: Number(r.seq),
    instanceId: r.instance_id,
    backend: r.backend as RevocationMachine['backend'],
    name: r.name,
    address: r.address,
    sshPort: Number(r.ssh_port),
    boundKeyPairName: r.bound_key_pair_name,
    copies: JSON.parse(r.copies) as KeyCopy[],
    users: JSON.parse(r.users),
    files: JSON.parse(r.files),
    scanError: r.scan_error,
    state: r.state as MachineState,
    detail: r.detail,
    verifiedAt: fromMsOrNull(r.verified_at),
    attempts: Number(r.attempts),
    nextAttemptAt: fromMsOrNull(r.next_attempt_at),
    unbindTaskId: r.unbind_task_id,
    removedLines: Number(r.removed_lines),
    updatedAt: fromMs(r.updated_at),
  };
}

/** Rows per insert statement (PostgreSQL allows 65535 parameters; a machine row has 20). */
const INSERT_CHUNK = 500;

export function createRevocationRepo({ db, dialect }: RepoContext): RevocationRepo {
  return {
    async insert(r, machines) {
      await db.insertInto('revocations').values(revocationRow(r)).execute();
      for (let i = 0; i < machines.length; i += INSERT_CHUNK)
        await db
          .insertInto('revocation_machines')
          .values(machines.slice(i, i + INSERT_CHUNK).map(machineRow))
          .execute();
    },
    async get(accountId, id) {
      const r = await db
        .selectFrom('revocations')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r ? revocationFromRow(r) : null;
    },
    async list(accountId, regionId, offset, limit) {
      const base = db.selectFrom('revocations').where('account_id', '=', accountId).where('region_id', '=', regionId);
      const rows = await base
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .offset(offset)
        .limit(limit)
        .execute();
      const n = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items: rows.map(revocationFromRow), total: Number(n.n) };
    },
    async machines(revocationId, f) {
      let base = db.selectFrom('revocation_machines').where('revocation_id', '=', revocationId);
      if (f.state) base = base.where('state', '=', f.state);
      const rows = await base.selectAll().orderBy('seq').offset(f.offset).limit(f.limit).execute();
      const n = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items: rows.map(machineFromRow), total: Number(n.n) };
    },
    async claimDue(owner, now, leaseUntil, limit) {
      const at = toMs(now);
      let ids: string[];
      if (dialect === 'postgres') {
        const r = await sql<{ id: string }>`
          with picked as materialized (
            select v.id from revocations v
            where v.status = 'applying' and v.next_run_at <= ${at}
              and (v.lease_until is null or v.lease_until < ${at})
            order by v.next_run_at, v.id limit ${limit} for update of v skip locked
          )
          update revocations t set lease_owner = ${owner}, lease_until = ${toMs(leaseUntil)}
          from picked where t.id = picked.id
          returning t.id`.execute(db);
        ids = r.rows.map((x) => x.id);
      } else {
        const pick = db
          .selectFrom('revocations')
          .select('id')
          .where('status', '=', 'applying')
          .where('next_run_at', '<=', at)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
          .orderBy('next_run_at')
          .orderBy('id')
          .limit(limit);
        const rows = await db
          .updateTable('revocations')
          .set({ lease_owner: owner, lease_until: toMs(leaseUntil) })
          .where('id', 'in', pick)
          .returning('id')
          .execute();
        ids = rows.map((x) => x.id);
      }
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('id', 'in', ids)
        .where('lease_owner', '=', owner)
        .orderBy('next_run_at')
        .orderBy('id')
        .execute();
      return rows.map(revocationFromRow);
    },
    async holds(id, owner, leaseUntil) {
      const r = await db
        .updateTable('revocations')
        .set({ lease_until: toMs(leaseUntil) })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'applying')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async updateMachine(m, owner) {
      const { revocation_id, seq, ...rest } = machineRow(m);
      const held = db
        .selectFrom('revocations')
        .select('id')
        .where('id', '=', revocation_id)
        .where('lease_owner', '=', owner ?? '')
        .where('status', '=', 'applying');
      let q = db
        .updateTable('revocation_machines')
        .set(rest)
        .where('revocation_id', '=', revocation_id)
        .where('seq', '=', seq);
      if (owner !== null) q = q.where('revocation_id', 'in', held);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async update(r, owner, expectStatus) {
      const row = revocationRow(r);
      let q = db
        .updateTable('revocations')
        .set({
          status: row.status,
          include_unmanaged: row.include_unmanaged,
          retry_until: row.retry_until,
          applied_at: row.applied_at,
          finished_at: row.finished_at,
          next_run_at: row.next_run_at,
          counts: row.counts,
          lease_owner: null,
          lease_until: null,
          // A finished revocation no longer needs the credential given with it.
          ...(r.status === 'finished' ? { sealed_credential: null } : {}),
        })
        .where('id', '=', r.id)
        .where('account_id', '=', r.accountId)
        .where('status', '=', expectStatus);
      q = owner === null ? q.where('lease_owner', 'is', null) : q.where('lease_owner', '=', owner);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },
    async putCredential(id, sealed) {
      await db.updateTable('revocations').set({ sealed_credential: sealed }).where('id', '=', id).execute();
    },
    async credential(id) {
      const r = await db.selectFrom('revocations').select('sealed_credential').where('id', '=', id).executeTakeFirst();
      return r?.sealed_credential ?? null;
    },
    async countStates(revocationId) {
      const rows = await db
        .selectFrom('revocation_machines')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('revocation_id', '=', revocationId)
        .groupBy('state')
        .execute();
      const counts = emptyCounts();
      for (const r of rows) counts[r.state as MachineState] = Number(r.n);
      return counts;
    },
  };
}
