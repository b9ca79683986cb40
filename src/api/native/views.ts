/** What the native API shows of each record: whitelisted fields only, never a sealed secret or a hash. */
import type { AccessKey, Group, Policy, User } from '../../core/account/account.js';
import type { AuditEntry } from '../../core/audit/audit.js';
import type { KeyLine } from '../../core/binding/drift.js';
import { previewFromPayload } from '../../core/binding/dry-run-preview.js';
import type { HostDriftResult } from '../../core/binding/drift-service.js';
import type { Instance } from '../../core/instance/instance.js';
import { verificationOf } from '../../core/instance/verification.js';
import type { KeyPair } from '../../core/keypair/keypair.js';
import type { Task, TaskItem } from '../../core/task/task.js';

export function keyPairView(kp: KeyPair) {
  return {
    id: kp.id,
    name: kp.name,
    regionId: kp.regionId,
    algorithm: kp.algorithm,
    bits: kp.bits,
    fingerprintMd5: kp.fingerprintMd5,
    fingerprintSha256: kp.fingerprintSha256,
    publicKey: kp.publicKey,
    resourceGroupId: kp.resourceGroupId,
    tags: kp.tags,
    description: kp.description,
    privateKeyEscrowed: kp.escrowedPrivateKey !== null,
    createdAt: kp.createdAt.toISOString(),
  };
}

/**
 * The proof of the machine's key state: when a fresh login last proved it (ISO time) and what it showed, or null
 * and why not (a change waiting for the next start, a proof that failed).
 */
function verificationView(i: Instance): { verifiedAt: string | null; verification: string } {
  const v = verificationOf(i);
  return { verifiedAt: v.verifiedAt?.toISOString() ?? null, verification: v.verification };
}

/** `keyPairRefusal`: why this instance cannot take a key pair (Windows, non-I/O-optimized), or null. */
export function instanceView(i: Instance, keyPairRefusal: string | null = null) {
  return {
    id: i.id,
    name: i.name,
    regionId: i.regionId,
    zoneId: i.zoneId,
    status: i.status,
    osType: i.osType,
    osName: i.osName,
    imageId: i.imageId,
    instanceType: i.instanceType,
    resourceGroupId: i.resourceGroupId,
    backend: i.backend,
    address: i.address,
    sshPort: i.sshPort,
    loginUser: i.loginUser,
    keyPairName: i.keyPairName,
    // When the binding ends (issue 19; null: never) and the expiry the machine's line has now (differs while an
    // extension waits for the next start).
    keyExpiresAt: i.keyPairName ? (i.keyExpiresAt?.toISOString() ?? null) : null,
    appliedKeyExpiresAt: i.appliedPublicKey ? (i.appliedKeyExpiresAt?.toISOString() ?? null) : null,
    bindingMode: i.keyPairName ? (i.bindingMode ?? null) : null,
    pendingRestart: i.pendingRestart,
    // What waits for the next start, so labels name it (a new root password is not a key pair change).
    pendingChanges: {
      keyPair: i.pendingRestart && i.desiredPublicKey !== i.appliedPublicKey,
      password: i.pendingRestart && i.pendingPasswordHash !== null,
    },
    passwordLogin: i.appliedPasswordLogin,
    ...verificationView(i),
    hasPassword: i.hasPassword,
    hostKeySha256: i.hostKeySha256,
    // A registered host: where keyfleet writes and how it logs in. The management key itself is never shown.
    host: i.host
      ? {
          homeDir: i.host.homeDir,
          rootKeysFile: i.host.rootKeysFile ?? null,
          dropInPath: i.host.dropInPath,
          reloadCommand: i.host.reloadCommand,
          validateCommand: i.host.validateCommand,
          managementUser: i.host.managementUser,
          hasManagementKey: i.host.sealedManagementKey !== null,
          passwordLogin: i.host.passwordLogin,
          sudo: i.host.sudo,
        }
      : null,
    canBindKeyPair: keyPairRefusal === null,
    keyPairRefusal,
    tags: i.tags,
    createdAt: i.createdAt.toISOString(),
  };
}

export function taskView(t: Task) {
  return {
    id: t.id,
    regionId: t.regionId,
    kind: t.kind,
    mode: t.mode,
    keyPairName: t.keyPairName,
    status: t.status,
    total: t.total,
    succeeded: t.succeeded,
    failed: t.failed,
    face: t.face,
    requestId: t.requestId,
    createdAt: t.createdAt.toISOString(),
    startedAt: t.startedAt?.toISOString() ?? null,
    finishedAt: t.finishedAt?.toISOString() ?? null,
    options: {
      port: t.options.port ?? null,
      expiresAt: t.options.expiresAt ?? null,
      // Set on keyfleet's own unbind of a binding that expired (face 'system').
      endsExpiry: t.options.endsExpiry ?? null,
      // Set when that unbind retries an earlier one that failed (the machine was unreachable).
      retryOf: t.options.retryOf ?? null,
    },
  };
}

export function taskItemView(i: TaskItem) {
  return {
    seq: i.seq,
    instanceId: i.instanceId,
    status: i.status,
    attempts: i.attempts,
    errorCode: i.errorCode,
    errorMessage: i.errorMessage,
    note: i.note,
    startedAt: i.startedAt?.toISOString() ?? null,
    finishedAt: i.finishedAt?.toISOString() ?? null,
    /** An import item's host: its inventory line and, once registered, the host key pinned. */
    ...dryRunOrHost(i),
  };
}

/** A dry run's diffs and risks (binding/dry-run-preview.ts), or an import item's host. */
function dryRunOrHost(i: TaskItem) {
  const preview = previewFromPayload(i.payload);
  if (preview) return { dryRun: preview };
  return i.payload ? { host: importHostView(i.payload) } : {};
}

function importHostView(p: NonNullable<TaskItem['payload']>) {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    line: Number(p.line),
    name: String(p.name),
    address: String(p.address),
    port: Number(p.port),
    loginUser: String(p.loginUser),
    hostKeySha256: text(p.hostKeyPinned),
    pinnedOnFirstUse: typeof p.pinnedOnFirstUse === 'boolean' ? p.pinnedOnFirstUse : null,
  };
}

export type KeyPairView = ReturnType<typeof keyPairView>;
export type InstanceView = ReturnType<typeof instanceView>;
export type TaskView = ReturnType<typeof taskView>;
export type TaskItemView = ReturnType<typeof taskItemView>;

export function userView(u: User) {
  return {
    id: u.id,
    name: u.name,
    isAccountAdmin: u.isAccountAdmin,
    consoleSignIn: u.passwordHash !== null,
    createdAt: u.createdAt.toISOString(),
  };
}

export function accessKeyView(k: AccessKey) {
  return { accessKeyId: k.id, userId: k.userId, status: k.status, createdAt: k.createdAt.toISOString() };
}

export function policyView(p: Policy) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    document: p.document,
    createdAt: p.createdAt.toISOString(),
  };
}

export function auditView(e: AuditEntry) {
  return {
    id: e.id,
    at: e.at.toISOString(),
    accountId: e.accountId,
    userId: e.userId,
    userName: e.userName,
    accessKeyId: e.accessKeyId,
    sessionId: e.sessionId,
    face: e.face,
    sourceIp: e.sourceIp,
    action: e.action,
    resources: e.resources,
    requestId: e.requestId,
    result: e.result,
    errorCode: e.errorCode,
    stage: e.stage,
    taskId: e.taskId,
    detail: e.detail,
  };
}

export type AuditEntryView = ReturnType<typeof auditView>;

/** One host's drift scan: findings and the keys keyfleet did not write, with fingerprints (no key bodies). */
export function driftResultView(r: HostDriftResult) {
  return {
    instanceId: r.instanceId,
    name: r.name,
    address: r.address,
    sshPort: r.sshPort,
    keyPairName: r.keyPairName,
    status: r.status,
    findings: r.findings.map((f) => ({ code: f.code, message: f.message, key: f.key ? driftKeyView(f.key) : null })),
    unmanagedKeys: r.unmanagedKeys.map(driftKeyView),
    reason: r.reason ?? null,
    errorCode: r.errorCode ?? null,
    errorMessage: r.errorMessage ?? null,
  };
}

function driftKeyView(k: KeyLine) {
  return {
    fingerprintSha256: k.fingerprintSha256,
    keyType: k.keyType,
    comment: k.comment,
    line: k.line,
    location: k.location,
    keyPairName: k.keyPairName,
    managementKey: k.managementKey,
  };
}

export type DriftResultView = ReturnType<typeof driftResultView>;

export function groupView(g: Group & { memberCount?: number; policyCount?: number }) {
  // Counts come with a listing of the account's groups (not with a user's groups, nor inside a group's detail).
  const counts = g.memberCount === undefined ? {} : { memberCount: g.memberCount, policyCount: g.policyCount ?? 0 };
  return { id: g.id, name: g.name, description: g.description, createdAt: g.createdAt.toISOString(), ...counts };
}

/** A group with its members and attached policies (GET /groups/:name). */
export function groupDetailView(d: { group: Group; members: User[]; policies: Policy[] }) {
  return { group: groupView(d.group), members: d.members.map(userView), policies: d.policies.map(policyView) };
}

export type GroupView = ReturnType<typeof groupView>;
export type GroupDetailView = ReturnType<typeof groupDetailView>;
