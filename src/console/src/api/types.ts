/**
 * The native API as the console sees it: response shapes from the server's own view functions, request bodies
 * from its TypeBox schemas. Type-only imports: nothing of the server is bundled (dependency-cruiser rule
 * `console-types-only`).
 */
import type { Static } from 'typebox';
import type {
  AuditQuery as AuditQuerySchema,
  BindingBody,
  CreateAccountBody,
  CreateGroupBody,
  CreatePolicyBody,
  CreateUserBody,
  ImportHostsBody,
  InstanceListQuery as InstanceListQuerySchema,
  KeyPairCreateBody,
  KeyPairListQuery as KeyPairListQuerySchema,
  RegisterHostBody,
  ResetPasswordBody,
  SignInBody,
  TaskItemsQuery as TaskItemsQuerySchema,
  TaskListQuery as TaskListQuerySchema,
} from '../../../api/native/schemas.js';
import type {
  accessKeyView,
  AuditEntryView,
  GroupDetailView,
  GroupView,
  InstanceView,
  KeyPairView,
  policyView,
  TaskItemView,
  TaskView,
  userView,
} from '../../../api/native/views.js';
import type { ExtendExpiryBody, UpdateHostBody } from '../../../api/native/schemas.js';
import type { DriftResultView } from '../../../api/native/views.js';

export type Instance = InstanceView;
export type KeyPair = KeyPairView;
export type Task = TaskView;
export type TaskItem = TaskItemView;
export type InstanceStatus = Instance['status'];
export type TaskStatus = Task['status'];
export type TaskItemStatus = TaskItem['status'];

export type SignInRequest = Static<typeof SignInBody>;
export type CreateKeyPairRequest = Static<typeof KeyPairCreateBody>;
export type ResetPasswordRequest = Static<typeof ResetPasswordBody>;
/** The schema leaves instanceIds items to the core's checks (unknown[]); the console always sends strings. */
export type BindingRequest = Omit<Static<typeof BindingBody>, 'instanceIds'> & { instanceIds: string[] };
export type LiveCredential = NonNullable<BindingRequest['credential']>;
// The status filters are built with .map() in the schemas, which TypeBox cannot type precisely; the view types say
// which values exist.
export type InstanceListQuery = Omit<Static<typeof InstanceListQuerySchema>, 'status'> & { status?: InstanceStatus };
export type KeyPairListQuery = Static<typeof KeyPairListQuerySchema>;
export type TaskListQuery = Omit<Static<typeof TaskListQuerySchema>, 'status'> & { status?: TaskStatus };
export type TaskItemsQuery = Omit<Static<typeof TaskItemsQuerySchema>, 'status'> & { status?: TaskItemStatus };

/** POST /api/v1/regions/:regionId/hosts: register an existing Linux machine as an instance of backend 'host'. */
export type RegisterHostRequest = Static<typeof RegisterHostBody>;
export interface RegisteredHost {
  instance: Instance;
  /** The host key keyfleet pinned: the one given up front, or the one seen on first contact. */
  hostKeySha256: string;
  /** True when no key was given and the one seen now was pinned (trust on first use): the user should compare it. */
  pinnedOnFirstUse: boolean;
}

/**
 * POST /api/v1/hosts/imports: the inventory text, read and checked by the server, registered by one task (its
 * items carry each host's line and, once registered, the host key pinned).
 */
export type ImportHostsRequest = Static<typeof ImportHostsBody>;
export interface ImportHostsResponse {
  task: Task;
  /** The format the server read the inventory as (the one asked for, or detected). */
  format: 'ini' | 'csv';
}

export interface SignInResponse {
  token: string;
  expiresAt: string;
  user: { id: string; name: string; isAccountAdmin: boolean };
  accountId: string;
}

export interface WhoAmI {
  accountId: string;
  accountName: string;
  userId: string;
  userName: string;
  isAccountAdmin: boolean;
  accessKeyId: string | null;
}

export interface Region {
  id: string;
  localName: string;
}

/** An image of the compute catalog; keyPairRefusal says why its instances cannot take a key pair (null: they can). */
export interface CatalogImage {
  id: string;
  name: string;
  osType: 'linux' | 'windows';
  osName: string;
  keyPairRefusal: string | null;
}

export interface CatalogInstanceType {
  id: string;
  cpu: number;
  memoryGiB: number;
  ioOptimized: boolean;
  keyPairRefusal: string | null;
}

export interface RunInstancesRequest {
  imageId: string;
  instanceType?: string;
  amount?: number;
  name?: string;
  password?: string;
  resourceGroupId?: string;
}

export interface ResourceGroup {
  id: string;
  name: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface KeyPairDetail {
  keyPair: KeyPair;
  /** Up to 100 instance IDs. */
  boundInstances: string[];
  boundCount: number;
}

export interface CreatedKeyPair {
  keyPair: KeyPair;
  /** Present only when keyfleet generated the key pair; shown in this response and never again. */
  privateKey?: string;
}

export interface BindingResult {
  task: Task;
  items?: TaskItem[];
}

/** GET /api/v1/audit and /api/v1/audit/export. */
export type AuditEntry = AuditEntryView;
export type AuditFace = AuditEntry['face'];
export type AuditResult = AuditEntry['result'];
export type AuditQuery = Static<typeof AuditQuerySchema>;

/** The native API's error envelope. */
export interface ApiErrorBody {
  code: string;
  message: string;
  requestId: string;
  details: Record<string, unknown>;
}

/** Identity (account administrators): users, their access keys, policies. */
export type User = ReturnType<typeof userView>;
export type AccessKey = ReturnType<typeof accessKeyView>;
export type AccessKeyStatus = AccessKey['status'];
export type Policy = ReturnType<typeof policyView>;
export type CreateUserRequest = Static<typeof CreateUserBody>;
/** The schema types the document as unknown; the console always sends a parsed JSON object. */
export type CreatePolicyRequest = Omit<Static<typeof CreatePolicyBody>, 'document'> & {
  document: Record<string, unknown>;
};
/** User groups: a group's members get the policies attached to it, in addition to their own. */
export type Group = GroupView;
export type GroupDetail = GroupDetailView;
export type CreateGroupRequest = Static<typeof CreateGroupBody>;
export interface CreatedAccessKey {
  accessKeyId: string;
  /** Shown in this response only. */
  accessKeySecret: string;
}

/** Accounts (the system administrator only; everyone else gets 403 Auth.Forbidden). */
export interface Account {
  id: string;
  name: string;
  createdAt: string;
}
export type CreateAccountRequest = Static<typeof CreateAccountBody>;
export interface CreatedAccount {
  account: { id: string; name: string };
  admin: User;
  accessKeyId: string;
  /** Shown in this response only. */
  accessKeySecret: string;
  /** The generated console password of the new administrator (null when the caller chose it); shown in this response only. */
  adminPassword: string | null;
}

/**
 * Drift of registered hosts and simulated instances: POST /regions/:regionId/drift-scans (a result per machine) and
 * /drift-repairs. A simulated instance ('sim') has no management key: its repair needs a credential.
 */
export type DriftResult = DriftResultView & { backend: 'host' | 'sim' };
export type DriftStatus = DriftResult['status'];
export type DriftKey = DriftResult['unmanagedKeys'][number];
export interface DriftRepair {
  /** One live task per key pair (an unbind task for drifted hosts without one); empty when nothing needed repair. */
  tasks: Task[];
  /** The scan the repair acted on. */
  results: DriftResult[];
}

/** PATCH /api/v1/instances/:id/host: re-pin, replace or forget the management key, settings. */
export type UpdateHostRequest = Static<typeof UpdateHostBody>;
export interface UpdatedHost {
  instance: Instance;
  hostKeySha256: string;
  previousHostKeySha256: string | null;
  /** True when the key the host presents now was pinned (repinHostKey): the user should compare it. */
  pinnedOnFirstUse: boolean;
}

/** POST /api/v1/instances/:id/expiry: the new expiry (ISO time or a duration such as '7d'), a credential for a live rewrite. */
export type ExtendExpiryRequest = Static<typeof ExtendExpiryBody>;
