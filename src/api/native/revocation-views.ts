/**
 * How the native API shows a revocation and its report (issue 19): JSON views, and the same rows as CSV for export.
 * A key is shown by its type and fingerprints only; the report never holds the key body or a file's other lines.
 */
import { machineOutcome, type Revocation, type RevocationMachine } from '../../core/revocation/revocation.js';

export function revocationView(r: Revocation) {
  return {
    id: r.id,
    regionId: r.regionId,
    status: r.status,
    target: r.target,
    key: { type: r.key.type, fingerprintSha256: r.key.fingerprintSha256, fingerprintMd5: r.key.fingerprintMd5 },
    keyPairNames: r.keyPairNames,
    includeUnmanaged: r.includeUnmanaged,
    retryUntil: r.retryUntil?.toISOString() ?? null,
    createdBy: r.submitter.userName,
    createdAt: r.createdAt.toISOString(),
    appliedAt: r.appliedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    machineCount: r.machineCount,
    counts: r.counts,
  };
}

export function revocationMachineView(m: RevocationMachine, r: Revocation) {
  return {
    instanceId: m.instanceId,
    backend: m.backend,
    name: m.name,
    address: m.address,
    sshPort: m.sshPort,
    boundKeyPairName: m.boundKeyPairName,
    copies: m.copies,
    copiesOutsideBlock: m.copies.filter((c) => !c.inBlock).length,
    scanError: m.scanError,
    state: m.state,
    outcome: machineOutcome(m, r.retryUntil),
    detail: m.detail,
    verifiedAt: m.verifiedAt?.toISOString() ?? null,
    nextAttemptAt: m.nextAttemptAt?.toISOString() ?? null,
    attempts: m.attempts,
    unbindTaskId: m.unbindTaskId,
    removedLines: m.removedLines,
  };
}

export const REPORT_CSV_COLUMNS = [
  'instanceId',
  'name',
  'backend',
  'address',
  'sshPort',
  'bound',
  'copiesInBlock',
  'copiesOutsideBlock',
  'state',
  'outcome',
  'verifiedAt',
  'removedLines',
  'detail',
] as const;

/** RFC 4180: every field quoted when it needs it; a leading =, +, - or @ is prefixed so a spreadsheet shows text. */
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function reportCsv(r: Revocation, machines: RevocationMachine[]): string {
  const rows = machines.map((m) => [
    m.instanceId,
    m.name,
    m.backend,
    m.address,
    m.sshPort,
    m.boundKeyPairName ?? '',
    m.copies.filter((c) => c.inBlock).length,
    m.copies.filter((c) => !c.inBlock).length,
    m.state,
    machineOutcome(m, r.retryUntil),
    m.verifiedAt?.toISOString() ?? '',
    m.removedLines,
    m.detail ?? m.scanError ?? '',
  ]);
  return [REPORT_CSV_COLUMNS, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
