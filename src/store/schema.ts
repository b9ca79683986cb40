/**
 * Row types of the one schema shared by the embedded store (SQLite) and PostgreSQL. Portable choices:
 * booleans are 0/1 integers, times are epoch milliseconds in bigint columns (pg returns those as strings, so
 * mappers convert with Number), JSON is text.
 */
export type Int = number | string;

export interface AccountsTable {
  id: string;
  name: string;
  created_at: Int;
}
export interface UsersTable {
  id: string;
  account_id: string;
  name: string;
  is_account_admin: number;
  is_system_admin: number;
  password_hash: string | null;
  created_at: Int;
  policies_version: number;
}
export interface AccessKeysTable {
  id: string;
  account_id: string;
  user_id: string;
  sealed_secret: string;
  status: string;
  created_at: Int;
}
export interface SessionsTable {
  id: string;
  account_id: string;
  user_id: string;
  token_hash: string;
  region_id: string | null;
  created_at: Int;
  expires_at: Int;
  /** The access key that opened the session; null for a password sign-in. */
  access_key_id: string | null;
}
export interface ResourceGroupsTable {
  id: string;
  account_id: string;
  name: string;
  created_at: Int;
}
export interface KeyPairsTable {
  id: string;
  account_id: string;
  region_id: string;
  name: string;
  algorithm: string;
  bits: number;
  public_key: string;
  fingerprint_md5: string;
  fingerprint_sha256: string;
  resource_group_id: string;
  description: string;
  escrowed_private_key: string | null;
  created_at: Int;
}
export interface ResourceTagsTable {
  account_id: string;
  region_id: string;
  /** 'keypair' | 'instance' */
  resource_type: string;
  resource_id: string;
  key: string;
  value: string;
}
export interface InstancesTable {
  id: string;
  account_id: string;
  region_id: string;
  zone_id: string;
  name: string;
  host_name: string;
  description: string;
  image_id: string;
  instance_type: string;
  os_type: string;
  os_name: string;
  status: string;
  backend: string;
  address: string;
  ssh_port: number;
  login_user: string;
  resource_group_id: string;
  created_at: Int;
  updated_at: Int;
  key_pair_id: string | null;
  key_pair_name: string | null;
  desired_public_key: string | null;
  pending_password_hash: string | null;
  applied_public_key: string | null;
  applied_password_login: number;
  pending_restart: number;
  has_password: number;
  host_key_sha256: string | null;
  start_after_provision: number;
  home_dir?: string | null;
  sshd_drop_in_path?: string | null;
  sshd_reload_command?: string | null;
  sshd_validate_command?: string | null;
  management_user?: string | null;
  sealed_management_key?: string | null;
  password_login_policy?: string | null;
  use_sudo?: number | null;
  /** Migration 0015: root's authorized_keys on a registered host (null: /root/.ssh/authorized_keys). */
  root_keys_file?: string | null;
  verified_at?: Int | null;
  verification?: string | null;
  key_expires_at?: Int | null;
  binding_mode?: string | null;
  applied_key_expires_at?: Int | null;
}
/** Migration 0014: a due expiry claimed by the sweeper that made its unbind task (one per instance and expiry). */
export interface BindingExpiriesTable {
  instance_id: string;
  expires_at: Int;
  account_id: string;
  task_id: string;
  claimed_at: Int;
}
/** Migration 0018: instances to observe again after an interrupted live change (ADR 26). */
export interface ReobservationsTable {
  instance_id: string;
  account_id: string;
  task_id: string;
  wanted: string;
  old_public_key: string | null;
  password_before: number | null;
  state_token: string;
  attempts: number;
  due_at: Int;
  last_asked_at: Int | null;
  created_at: Int;
}
export interface TasksTable {
  id: string;
  account_id: string;
  region_id: string;
  kind: string;
  mode: string;
  key_pair_id: string | null;
  key_pair_name: string | null;
  status: string;
  total: number;
  succeeded: number;
  failed: number;
  face: string;
  request_id: string;
  created_by: string;
  created_at: Int;
  started_at: Int | null;
  finished_at: Int | null;
  options: string;
  submitter?: string | null;
}
export interface TaskItemsTable {
  task_id: string;
  seq: number;
  instance_id: string;
  status: string;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  note: string | null;
  started_at: Int | null;
  finished_at: Int | null;
  lease_owner: string | null;
  lease_until: Int | null;
  payload: string | null;
  intent?: string | null;
}
export interface TaskCredentialsTable {
  task_id: string;
  sealed: string;
  created_at: Int;
}
export interface BindingEventsTable {
  task_id: string;
  seq: number;
  instance_id: string;
  account_id: string;
  action: string;
  key_pair_id: string | null;
  key_pair_name: string | null;
  mode: string;
  at: Int;
}
export interface SequencesTable {
  name: string;
  value: Int;
}

export interface PoliciesTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  document: string;
  created_at: Int;
  updated_at: Int;
}
export interface UserPoliciesTable {
  user_id: string;
  policy_id: string;
}
export interface GroupsTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  created_at: Int;
}
export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}
export interface GroupPoliciesTable {
  group_id: string;
  policy_id: string;
}
export interface AuditEntriesTable {
  id: string;
  account_id: string;
  at: Int;
  user_id: string;
  user_name: string;
  access_key_id: string | null;
  session_id: string | null;
  face: string;
  source_ip: string;
  action: string;
  resources: string;
  request_id: string;
  result: string;
  error_code: string | null;
  task_id?: string | null;
  stage?: string;
  detail?: string | null;
}

export interface Database {
  policies: PoliciesTable;
  user_policies: UserPoliciesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  group_policies: GroupPoliciesTable;
  audit_entries: AuditEntriesTable;
  accounts: AccountsTable;
  users: UsersTable;
  access_keys: AccessKeysTable;
  sessions: SessionsTable;
  resource_groups: ResourceGroupsTable;
  key_pairs: KeyPairsTable;
  resource_tags: ResourceTagsTable;
  instances: InstancesTable;
  tasks: TasksTable;
  task_items: TaskItemsTable;
  task_credentials: TaskCredentialsTable;
  binding_events: BindingEventsTable;
  sequences: SequencesTable;
  webhook_endpoints: WebhookEndpointsTable;
  event_outbox: EventOutboxTable;
  webhook_attempts: WebhookAttemptsTable;
  request_replays: RequestReplaysTable;
  rate_buckets: RateBucketsTable;
  binding_expiries: BindingExpiriesTable;
  rotations: RotationsTable;
  rotation_waves: RotationWavesTable;
  rotation_machines: RotationMachinesTable;
  revocations: RevocationsTable;
  revocation_machines: RevocationMachinesTable;
  reobservations: ReobservationsTable;
}

export type Dialect = 'sqlite' | 'postgres';

/** Migration 0012: signed requests used once, until their timestamp is stale. */
export interface RequestReplaysTable {
  digest: string;
  expires_at: Int;
}

/** Migration 0012: shared token buckets (rate limits across processes). */
export interface RateBucketsTable {
  bucket: string;
  tokens: number;
  at: Int;
  ok: number;
}

/** Migration 0013: an account's webhook endpoints (events: JSON list of types; the secret sealed). */
export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  events: string;
  enabled: number;
  description: string;
  sealed_secret: string;
  created_at: Int;
  updated_at: Int;
}

/** Migration 0013: one delivery per event and endpoint, leased by the process sending it. */
export interface EventOutboxTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  account_id: string;
  type: string;
  body: string;
  status: string;
  attempts: number;
  created_at: Int;
  next_attempt_at: Int;
  lease_owner: string | null;
  lease_until: Int | null;
  delivered_at: Int | null;
  last_status: number | null;
  last_error: string | null;
}

/** Migration 0013: each attempt of a delivery. */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: Int;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
}

/** Migration 0016: a rotation in waves (submitter: JSON; sealed_credential: the live credential, sealed). */
export interface RotationsTable {
  id: string;
  account_id: string;
  region_id: string;
  from_key_pair_id: string;
  from_key_pair_name: string;
  to_key_pair_id: string;
  to_key_pair_name: string;
  mode: string;
  port: number | null;
  canary_size: number;
  wave_size: number;
  pause_ms: Int;
  max_failures: number;
  status: string;
  reason: string | null;
  total: number;
  succeeded: number;
  failed: number;
  wave_count: number;
  next_wave_at: Int | null;
  face: string;
  request_id: string;
  created_by: string;
  submitter: string | null;
  sealed_credential: string | null;
  created_at: Int;
  updated_at: Int;
  finished_at: Int | null;
  version: number;
}

/** Migration 0016: one wave of a rotation; its current attempt's status and task. */
export interface RotationWavesTable {
  rotation_id: string;
  n: number;
  attempt: number;
  size: number;
  status: string;
  task_id: string | null;
  succeeded: number;
  failed: number;
  started_at: Int | null;
  finished_at: Int | null;
}

/** Migration 0016: one machine of a rotation, its wave and result. */
export interface RotationMachinesTable {
  rotation_id: string;
  instance_id: string;
  position: number;
  wave: number;
  status: string;
  task_id: string | null;
  error_code: string | null;
  detail: string | null;
  finished_at: Int | null;
}

/** Migration 0015: a revocation (issue 19); target, key, submitter and counts as JSON. */
export interface RevocationsTable {
  id: string;
  account_id: string;
  region_id: string;
  status: string;
  target: string;
  key_base64: string;
  key_json: string;
  key_pair_names: string;
  include_unmanaged: number;
  retry_until: Int | null;
  created_by: string;
  submitter: string;
  face: string;
  request_id: string;
  created_at: Int;
  applied_at: Int | null;
  finished_at: Int | null;
  next_run_at: Int | null;
  machine_count: number;
  counts: string;
  lease_owner: string | null;
  lease_until: Int | null;
  sealed_credential?: string | null;
}

/** Migration 0015: one machine of a revocation, its copies and outcome (copies, users, files as JSON). */
export interface RevocationMachinesTable {
  revocation_id: string;
  seq: number;
  instance_id: string;
  backend: string;
  name: string;
  address: string;
  ssh_port: number;
  bound_key_pair_name: string | null;
  copies: string;
  users: string;
  files: string;
  scan_error: string | null;
  state: string;
  detail: string | null;
  verified_at: Int | null;
  attempts: number;
  next_attempt_at: Int | null;
  unbind_task_id: string | null;
  removed_lines: number;
  updated_at: Int;
}
