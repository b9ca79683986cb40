/**
 * Ports: what the core needs from the outside world. The store, compute backends, the SSH client and crypto
 * implement these; the core imports none of them.
 */
import type {
  Account,
  AccessKey,
  Group,
  GroupSummary,
  Policy,
  ResourceGroup,
  Session,
  User,
} from './account/account.js';
import type { RequestGuardRepo } from './account/request-guard.js';
import type { AuditRepo } from './audit/audit.js';
import type { EventOutboxRepo } from './events/outbox.js';
import type { Image, Instance, InstanceStatus, InstanceType, BackendKind } from './instance/instance.js';
import type { KeyPair, Tag } from './keypair/keypair.js';
import type { ReobservationRepo } from './binding/reobservation.js';
import type { RotationRepo } from './rotation/rotation.js';
import type { RevocationRepo } from './revocation/revocation.js';
import type { ItemIntent, Task, TaskItem, TaskItemStatus, TaskKind, TaskStatus } from './task/task.js';

export interface Page<T> {
  items: T[];
  total: number;
}

export interface KeyPairFilter {
  accountId: string;
  regionId?: string;
  namePattern?: string;
  fingerprint?: string;
  resourceGroupId?: string;
  tags?: Tag[];
  /** Only key pairs that have each of these keys with one of its values (no values: the key with any value). */
  tagChoices?: TagChoice[];
  /** Only key pairs without any tag. */
  untagged?: boolean;
  /** Only key pairs whose name contains this text (case-sensitive). */
  nameContains?: string;
  /** The order of the list: by creation time then name (default), or by name alone. */
  orderBy?: 'created' | 'name';
  offset: number;
  limit: number;
}

/** A tag key and the values that satisfy it (Huawei's tag filters); an empty list: the key with any value. */
export interface TagChoice {
  key: string;
  values: string[];
}

export interface KeyPairRepo {
  /** Inserts; raises KeyPair.AlreadyExists if the name is taken in that account and region. */
  insert(kp: KeyPair): Promise<void>;
  get(accountId: string, regionId: string, name: string): Promise<KeyPair | null>;
  getById(accountId: string, id: string): Promise<KeyPair | null>;
  list(filter: KeyPairFilter): Promise<Page<KeyPair>>;
  count(accountId: string, regionId: string): Promise<number>;
  update(kp: KeyPair): Promise<void>;
  delete(accountId: string, ids: string[]): Promise<void>;
}

export interface InstanceFilter {
  accountId?: string;
  regionId?: string;
  ids?: string[];
  namePattern?: string;
  /** Free text over id, name, address and key pair name (console search). */
  search?: string;
  status?: InstanceStatus;
  keyPairName?: string;
  resourceGroupId?: string;
  /** Only instances that have every one of these tags (an empty value: the key with any value). */
  tags?: Tag[];
  backend?: BackendKind;
  pendingRestart?: boolean;
  statuses?: InstanceStatus[];
  /** Only bindings that expire at or before this time (the console's "expiring soon"). */
  expiringBefore?: Date;
  offset: number;
  limit: number;
}

export interface InstanceRepo {
  insert(instance: Instance): Promise<void>;
  get(accountId: string, id: string): Promise<Instance | null>;
  getMany(accountId: string, ids: string[]): Promise<Instance[]>;
  list(filter: InstanceFilter): Promise<Page<Instance>>;
  update(instance: Instance): Promise<void>;
  delete(accountId: string, id: string): Promise<void>;
  /** Names of the instances a key pair is bound to (first `limit`), and how many there are. */
  boundTo(accountId: string, keyPairId: string, limit: number): Promise<Page<string>>;
  /** A value that is unique across all instances ever created, for addresses. */
  nextSequence(name: string): Promise<number>;
}

export interface TaskFilter {
  accountId: string;
  regionId?: string;
  statuses?: TaskStatus[];
  /** Only tasks of these kinds (a cloud face lists its key pair tasks, not inventory imports). */
  kinds?: TaskKind[];
  offset: number;
  limit: number;
}

export interface TaskRepo {
  insert(task: Task, items: TaskItem[]): Promise<void>;
  get(accountId: string, id: string): Promise<Task | null>;
  list(filter: TaskFilter): Promise<Page<Task>>;
  items(taskId: string, filter?: { status?: TaskItemStatus; offset?: number; limit?: number }): Promise<Page<TaskItem>>;
  /** Tasks not finished yet, across accounts: resumed at start. */
  unfinished(): Promise<Task[]>;
  /** Marks up to `limit` pending items running for `owner` until `leaseUntil`; also takes items whose lease ran out. */
  claimItems(taskId: string, owner: string, now: Date, leaseUntil: Date, limit: number): Promise<TaskItem[]>;
  /** Records an item's outcome; returns false if the item was not running under this owner (so nothing is applied twice). */
  finishItem(item: TaskItem, owner: string): Promise<boolean>;
  /**
   * Recounts and stores the task's counters and status; returns the task. `finishedNow` is true for the one call
   * (across processes) that marked it finished; that call also wipes the task's sealed credential.
   */
  refresh(taskId: string, now: Date): Promise<Task & { finishedNow?: boolean }>;
  /**
   * Extends the lease of every item `owner` holds (running) to `leaseUntil`; returns the items it still holds, so
   * the runner can stop those another runner took over.
   */
  renewLeases(owner: string, leaseUntil: Date): Promise<Array<{ taskId: string; seq: number }>>;
  /**
   * Records what a running item is about to do to its machine (and extends its lease), only while `owner` still
   * holds it: false means the lease was lost and the item must not touch the machine.
   */
  recordIntent(
    item: Pick<TaskItem, 'taskId' | 'seq'>,
    owner: string,
    intent: ItemIntent,
    leaseUntil: Date,
  ): Promise<boolean>;
  /** Whether `owner` still holds the running item (and extends its lease if so). */
  holds(item: Pick<TaskItem, 'taskId' | 'seq'>, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Keeps a live task's credential, sealed by the SecretBox, for the task's lifetime (wiped when it finishes or is deleted). */
  putCredential(taskId: string, sealed: string, now: Date): Promise<void>;
  credential(taskId: string): Promise<string | null>;
  markStarted(taskId: string, now: Date): Promise<void>;
  /** Puts running items back to pending: all of them (single writer, at start) or those whose lease ran out. */
  releaseLeases(which: 'all' | 'expired', now: Date): Promise<number>;
  delete(accountId: string, ids: string[]): Promise<void>;
}

export interface BindingEvent {
  taskId: string;
  seq: number;
  instanceId: string;
  accountId: string;
  action: 'bind' | 'unbind';
  keyPairId: string | null;
  keyPairName: string | null;
  mode: 'on-restart' | 'live' | 'boot';
  at: Date;
}

export interface BindingEventRepo {
  /** Raises if an event for this task item already exists: the guard that an item is applied once. */
  insert(e: BindingEvent): Promise<void>;
  forInstance(accountId: string, instanceId: string): Promise<BindingEvent[]>;
  countByTask(taskId: string): Promise<number>;
}

export interface AccountRepo {
  insertAccount(a: Account): Promise<void>;
  getAccount(id: string): Promise<Account | null>;
  getAccountByName(name: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  insertUser(u: User): Promise<void>;
  getUser(accountId: string, id: string): Promise<User | null>;
  getUserByName(accountId: string, name: string): Promise<User | null>;
  updateUser(u: User): Promise<void>;
  insertAccessKey(k: AccessKey): Promise<void>;
  getAccessKey(id: string): Promise<AccessKey | null>;
  updateAccessKey(k: AccessKey): Promise<void>;
  insertSession(s: Session): Promise<void>;
  getSessionByTokenHash(hash: string): Promise<Session | null>;
  deleteSession(id: string): Promise<void>;
  insertResourceGroup(g: ResourceGroup): Promise<void>;
  listResourceGroups(accountId: string): Promise<ResourceGroup[]>;
  getResourceGroup(accountId: string, id: string): Promise<ResourceGroup | null>;
  /**
   * Locks a resource group for the rest of the transaction (PostgreSQL: FOR UPDATE to delete it, FOR SHARE to move
   * a resource into it; SQLite has one writer) and returns it, or null when the account has no such group.
   */
  lockResourceGroup(accountId: string, id: string, mode: 'update' | 'share'): Promise<ResourceGroup | null>;
  renameResourceGroup(accountId: string, id: string, name: string): Promise<void>;
  deleteResourceGroup(accountId: string, id: string): Promise<void>;
  /** How many key pairs and instances are in the group. */
  resourceGroupMembers(accountId: string, id: string): Promise<{ keyPairs: number; instances: number }>;
  /** Moves a key pair or an instance into a group; false when the account has no such resource. */
  moveToResourceGroup(accountId: string, type: 'keypair' | 'instance', id: string, groupId: string): Promise<boolean>;
  listUsers(accountId: string): Promise<User[]>;
  deleteUser(accountId: string, id: string): Promise<void>;
  listAccessKeys(accountId: string, userId: string): Promise<AccessKey[]>;
  deleteAccessKey(accountId: string, id: string): Promise<void>;
  deleteSessionsOfUser(accountId: string, userId: string): Promise<void>;
  /** Ends every session the access key opened (the key was disabled or deleted). */
  deleteSessionsOfAccessKey(accountId: string, accessKeyId: string): Promise<void>;
  insertPolicy(p: Policy): Promise<void>;
  getPolicyByName(accountId: string, name: string): Promise<Policy | null>;
  listPolicies(accountId: string): Promise<Policy[]>;
  /** Deletes the policy and detaches it from every user and group that has it (their policy versions bumped). */
  deletePolicy(accountId: string, id: string): Promise<void>;
  /** The names of the users and groups the policy is attached to, sorted. */
  attachmentsOfPolicy(accountId: string, policyId: string): Promise<{ users: string[]; groups: string[] }>;
  attachPolicy(userId: string, policyId: string): Promise<void>;
  detachPolicy(userId: string, policyId: string): Promise<void>;
  policiesOfUser(accountId: string, userId: string): Promise<Policy[]>;
  /** The user's own policies and those of every group it belongs to, each once (what the authorizer evaluates). */
  policiesInEffect(accountId: string, userId: string): Promise<Policy[]>;
  // User groups. Every change that alters a user's policies in effect bumps that user's policies_version.
  insertGroup(g: Group): Promise<void>;
  getGroupByName(accountId: string, name: string): Promise<Group | null>;
  listGroups(accountId: string): Promise<GroupSummary[]>;
  /** Deletes the group with its memberships and policy attachments. */
  deleteGroup(accountId: string, id: string): Promise<void>;
  addGroupMember(accountId: string, groupId: string, userId: string): Promise<void>;
  removeGroupMember(accountId: string, groupId: string, userId: string): Promise<void>;
  membersOfGroup(accountId: string, groupId: string): Promise<User[]>;
  groupsOfUser(accountId: string, userId: string): Promise<Group[]>;
  attachGroupPolicy(accountId: string, groupId: string, policyId: string): Promise<void>;
  detachGroupPolicy(accountId: string, groupId: string, policyId: string): Promise<void>;
  policiesOfGroup(accountId: string, groupId: string): Promise<Policy[]>;
}

/** The resources that carry tags and belong to resource groups. */
export type TaggableType = 'keypair' | 'instance';

/** One tag of one resource, as ListTagResources returns it. */
export interface TagResource {
  resourceType: TaggableType;
  resourceId: string;
  key: string;
  value: string;
}

export interface TagQuery {
  accountId: string;
  regionId: string;
  resourceType: TaggableType;
  /** Only these resources (absent: all of the type in the region). */
  resourceIds?: string[];
  /** Only resources that have every one of these tags (an empty value: the key with any value). */
  tags?: Tag[];
  /** Keyset paging: the rows after this resource id and key. */
  after?: { resourceId: string; key: string };
  limit: number;
}

/**
 * Tags of key pairs and instances (migration 0017). Resources are named by their ids; every call names the
 * account too, so one tenant never reads or changes another's tags.
 */
export interface TagRepo {
  /**
   * Locks the resources for a tag change (PostgreSQL: their rows, FOR UPDATE, in id order; SQLite has one writer)
   * and returns the ids of those that exist in the account and region.
   */
  lock(accountId: string, regionId: string, type: TaggableType, ids: string[]): Promise<string[]>;
  /** Adds the tags to every resource, overwriting the value of a key it already has. */
  put(accountId: string, regionId: string, type: TaggableType, ids: string[], tags: Tag[]): Promise<void>;
  /** Removes the keys from the resources (null: every tag). */
  remove(accountId: string, type: TaggableType, ids: string[], keys: string[] | null): Promise<void>;
  /** The most tags any of the resources has. */
  maxCount(accountId: string, type: TaggableType, ids: string[]): Promise<number>;
  list(q: TagQuery): Promise<TagResource[]>;
}

export interface Repos {
  keyPairs: KeyPairRepo;
  instances: InstanceRepo;
  tasks: TaskRepo;
  events: BindingEventRepo;
  accounts: AccountRepo;
  audit: AuditRepo;
  /** Webhook endpoints and the outbox of their deliveries (issue 21). */
  outbox: EventOutboxRepo;
  /** Replay records and shared rate-limit buckets (issue 17). */
  guards: RequestGuardRepo;
  /** Revocations and their reports (issue 19). */
  revocations: RevocationRepo;
  /** Rotations in waves, their waves and per-machine results (issue 19). */
  rotations: RotationRepo;
  /** Due binding expiries and their claims (issue 19). */
  expiries: BindingExpiryRepo;
  /** Tags of key pairs and instances (issue 20). */
  tags: TagRepo;
  /** Instances to observe again after an interrupted live change (ADR 26). */
  reobservations: ReobservationRepo;
}

/** A binding whose expiry has come: the instance and the expiry it ends. */
export interface DueExpiry {
  accountId: string;
  instanceId: string;
  expiresAt: Date;
  /** The task of an earlier claim of this expiry that failed (the machine was unreachable): this is its retry. */
  retryOf?: string;
}

export interface BindingExpiryRepo {
  /**
   * Bindings whose expiry is at or before `now` and not claimed yet, the earliest first; and those whose claim's
   * task failed (ended `failed` or `partial`, or is gone) at or before `retryFailedBefore` while the binding still
   * has that expiry, with `retryOf` naming that task.
   */
  due(now: Date, limit: number, retryFailedBefore: Date): Promise<DueExpiry[]>;
  /**
   * Claims one expiry for the task that ends it; false when it was claimed already (by this or another process).
   * Made in the transaction that inserts the task, so exactly one unbind task exists per instance and expiry at a
   * time. A retry takes the claim over only from the task it names (`retryOf`), so two sweepers retrying the same
   * failed unbind make one task.
   */
  claim(expiry: DueExpiry, taskId: string, now: Date): Promise<boolean>;
}

/** Store: repositories plus short transactions. Nothing slow (SSH, key generation, sleeps) runs inside one. */
export interface Store extends Repos {
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What a machine must have after it boots: applied by the backend as cloud-init would. */
export interface BootConfig {
  /** The key pair's public key to place in the managed block (null: no key pair). */
  publicKey: string | null;
  keyPairName: string | null;
  passwordLogin: boolean;
  /** A new root password hash to install, or null to keep the current one. */
  newPasswordHash: string | null;
  /** When the key's binding ends: written as OpenSSH's expiry-time on its line (null/absent: never). */
  keyExpiresAt?: Date | null;
}

/**
 * What a boot would write for a BootConfig, against what the machine's files hold now (ComputeBackend.previewBoot):
 * the content the boot step itself computes, so an on-restart dry run shows exactly what the next start applies.
 */
export interface BootFilesPreview {
  /** The managed user's authorized_keys (path as on the machine); `changed` false: the boot leaves it as it is. */
  authorizedKeys: { path: string; before: string | null; after: string; changed: boolean };
  /** keyfleet's sshd drop-in; null: the boot does not touch sshd's configuration. */
  dropIn: { path: string; before: string | null; after: string } | null;
}

/** ComputeBackend: machines that start, stop and boot with a key state. The simulated fleet implements it. */
export interface ComputeBackend {
  readonly kind: BackendKind;
  images(): Image[];
  instanceTypes(): InstanceType[];
  /** Address and SSH port for the n-th instance ever created. */
  addressFor(sequence: number): { address: string; sshPort: number };
  /** Creates the machine's disk; it is Stopped afterwards. Returns the host key fingerprint. */
  provision(instance: Instance, rootPasswordHash: string | null): Promise<{ hostKeySha256: string }>;
  /** Applies the boot configuration (cloud-init) and starts serving. */
  boot(instance: Instance, config: BootConfig): Promise<void>;
  /**
   * A dry run of boot(): what its boot step would write for `config` and what the files hold now, read from the
   * machine's disk (Running or Stopped alike); writes nothing. Null: the machine has no disk to read (never
   * provisioned, destroyed). Absent: this backend cannot show it (an on-restart dry run then says so).
   */
  previewBoot?(instance: Instance, config: BootConfig): Promise<BootFilesPreview | null>;
  shutdown(instance: Instance): Promise<void>;
  /** After keyfleet itself restarted: a Running machine keeps running (serves again) without a boot. */
  resume(instance: Instance): Promise<void>;
  destroy(instance: Instance): Promise<void>;
  /** Hashes a new root password in the machine's own format; the plain password is not kept. */
  hashPassword(password: string): Promise<string>;
  close(): Promise<void>;
}

export interface RemoteFile {
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface LiveTarget {
  host: string;
  port: number;
  username: string;
}

export type LiveCredential = { kind: 'password'; password: string } | { kind: 'privateKey'; privateKey: string };
export type HostKeyPolicy = { kind: 'pinned'; sha256: string } | { kind: 'trust-on-first-use' };

/** A file read in order to be replaced (see LiveSession.readForReplace). */
export interface ReplaceableFile {
  current: RemoteFile | null;
  /** The directory holding the file as the read found it; null if it is missing or not a directory. */
  directory: { mode: number; uid: number; gid: number } | null;
  /** Replaces the file atomically (whole or not at all), with exactly this mode and owner. */
  replace(content: string, attrs: { mode: number; uid?: number; gid?: number }): Promise<void>;
  /** Gives up the replacement: whatever readForReplace prepared on the machine is removed. */
  discard(): Promise<void>;
}

export interface LiveSession {
  readonly hostKeySha256: string;
  readFile(path: string): Promise<RemoteFile | null>;
  /**
   * Reads a file that is about to be replaced, with its directory; an adapter may prepare the replacement in the
   * same round trip (SFTP opens a hidden temp file beside it). The file itself is untouched until replace(); a
   * caller that does not replace must discard().
   */
  readForReplace(path: string): Promise<ReplaceableFile>;
  writeFileAtomic(path: string, content: string, attrs: { mode: number; uid?: number; gid?: number }): Promise<void>;
  ensureDir(path: string, attrs: { mode: number; uid?: number; gid?: number }): Promise<void>;
  removeFile(path: string): Promise<void>;
  exec(command: string, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): void;
}

/** LiveAccess reaches a running machine over SSH, agentless: the same path for simulated and real hosts. */
export interface LiveAccess {
  /** `sudo`: file operations and commands run through `sudo -n` (a non-root management user). */
  openSession(
    target: LiveTarget,
    credential: LiveCredential,
    hostKey: HostKeyPolicy,
    opts?: { timeoutMs?: number; sudo?: boolean },
  ): Promise<LiveSession>;
  probeLogin(
    target: LiveTarget,
    hostKey: HostKeyPolicy,
    publicKeyLine: string | null,
    opts?: { timeoutMs?: number },
  ): Promise<{ keyAccepted: boolean | null; methods: string[]; hostKeySha256: string }>;
  tryLogin(
    target: LiveTarget,
    credential: LiveCredential,
    hostKey: HostKeyPolicy,
    opts?: { timeoutMs?: number },
  ): Promise<{ ok: boolean; hostKeySha256: string }>;
}

/** SecretBox seals secrets at rest (access key secrets, escrowed private keys) with a key-encryption key. */
export interface SecretBox {
  seal(plain: string, context: string): string;
  open(sealed: string, context: string): string;
}

/** PasswordHasher hashes console passwords and session tokens; slow by design for passwords. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Leadership among the processes sharing one store: at most one process holds it at a time (the one that serves
 * the simulated fleet's SSH). PostgreSQL: a session advisory lock on a dedicated connection, released by the
 * server when the holder's connection ends (a killed process); the embedded store: the one process always holds it.
 */
export interface Leadership {
  /** Starts competing; `onChange` is told each time this process gains (true) or loses (false) the role. */
  start(onChange: (leader: boolean) => void): void;
  isLeader(): boolean;
  /** Gives the role up (if held) and stops competing. */
  close(): Promise<void>;
}

/** A machine's power changed through some process: its SSH must now be served (`serve`) or not (`stop`). */
export interface InstancePowerSignal {
  op: 'serve' | 'stop';
  instanceId: string;
  address: string;
  sshPort: number;
  /** The process that made the change (a process ignores its own signals). */
  origin: string;
}

/**
 * Instance power changes heard by every process sharing the store (PostgreSQL: LISTEN/NOTIFY; embedded: nothing to
 * tell). Delivery is best effort: whoever acts on them also reconciles from the store now and then.
 */
export interface InstanceSignals {
  publish(signal: InstancePowerSignal): Promise<void>;
  /** Calls `cb` for each signal published by any process (including this one); returns the unsubscribe. */
  subscribe(cb: (signal: InstancePowerSignal) => void): () => void;
}
