/**
 * The console's client of the native API (/api/v1). Every request says `x-keyfleet-client: console`, so the
 * server records the console as the face in tasks and the audit trail. The bearer token lives in
 * sessionStorage (this tab only, gone when the tab closes); nothing else is stored by the browser.
 */
import { eventStreamReader } from '../../../api/native/event-stream.js';
import type { CatalogImage, CatalogInstanceType, RunInstancesRequest } from './types';
import type {
  DriftRepair,
  DriftResult,
  ExtendExpiryRequest,
  LiveCredential,
  UpdatedHost,
  UpdateHostRequest,
} from './types';
import type {
  AccessKey,
  Account,
  AccessKeyStatus,
  ApiErrorBody,
  AuditEntry,
  AuditQuery,
  BindingRequest,
  BindingResult,
  CreateAccountRequest,
  CreatedAccount,
  CreateKeyPairRequest,
  CreatedAccessKey,
  CreatedKeyPair,
  Group,
  GroupDetail,
  CreateGroupRequest,
  CreatePolicyRequest,
  CreateUserRequest,
  Instance,
  InstanceListQuery,
  KeyPair,
  KeyPairDetail,
  KeyPairListQuery,
  Page,
  Policy,
  Region,
  RegisteredHost,
  RegisterHostRequest,
  ImportHostsRequest,
  ImportHostsResponse,
  ResourceGroup,
  SignInRequest,
  SignInResponse,
  Task,
  TaskItem,
  TaskItemsQuery,
  TaskListQuery,
  User,
  WhoAmI,
} from './types';

const TOKEN_KEY = 'keyfleet.console.token';
export const API_BASE = '/api/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
  constructor(status: number, body: Partial<ApiErrorBody> | null, fallback: string) {
    super(body?.message ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.code ?? (status === 0 ? 'Network.Unreachable' : `HTTP.${status}`);
    this.requestId = body?.requestId ?? null;
    this.details = body?.details ?? {};
  }
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError)
    return err.code.startsWith('HTTP.') || err.code === 'Network.Unreachable'
      ? err.message
      : `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

type Query = Record<string, string | number | boolean | undefined | null>;

function qs(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

let token: string | null = readToken();
const expiredListeners = new Set<() => void>();

function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function currentToken(): string | null {
  return token;
}

export function setToken(t: string | null): void {
  token = t;
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token stays in memory for this page only
  }
}

/**
 * Tabs of the same browser share a session without a shared store: a new tab asks the open ones for the token
 * over a BroadcastChannel (same origin only); signing out in one tab signs out all. When the last tab closes,
 * the token is gone.
 */
const channel: BroadcastChannel | null =
  typeof BroadcastChannel === 'function' ? new BroadcastChannel('keyfleet-console') : null;
type Msg = { type: 'need-token' } | { type: 'token'; token: string } | { type: 'signed-out' };

channel?.addEventListener('message', (e: MessageEvent<Msg>) => {
  if (e.data?.type === 'need-token' && token) channel.postMessage({ type: 'token', token } satisfies Msg);
  if (e.data?.type === 'signed-out' && token) {
    setToken(null);
    for (const fn of expiredListeners) fn();
  }
});

/** Asks other open tabs for their token; resolves null if none answers in `waitMs`. */
export function borrowToken(waitMs = 250): Promise<string | null> {
  if (!channel) return Promise.resolve(null);
  return new Promise((resolve) => {
    const onMsg = (e: MessageEvent<Msg>) => {
      if (e.data?.type !== 'token') return;
      channel.removeEventListener('message', onMsg);
      window.clearTimeout(timer);
      setToken(e.data.token);
      resolve(e.data.token);
    };
    const timer = window.setTimeout(() => {
      channel.removeEventListener('message', onMsg);
      resolve(null);
    }, waitMs);
    channel.addEventListener('message', onMsg);
    channel.postMessage({ type: 'need-token' } satisfies Msg);
  });
}

export function announceSignOut(): void {
  channel?.postMessage({ type: 'signed-out' } satisfies Msg);
}

/** Called when the server says the session is over (401 on a signed-in request). */
export function onSessionExpired(fn: () => void): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { raw?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { 'x-keyfleet-client': 'console', accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const sentToken = token;
  if (sentToken) headers.authorization = `Bearer ${sentToken}`;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, null, 'keyfleet cannot be reached. Check that the server is running, then try again.');
  }
  if (res.status === 401 && sentToken && path !== '/sessions') {
    setToken(null);
    for (const fn of expiredListeners) fn();
  }
  if (!res.ok) {
    let parsed: Partial<ApiErrorBody> | null = null;
    try {
      parsed = (await res.json()) as Partial<ApiErrorBody>;
    } catch {
      parsed = null;
    }
    throw new ApiError(res.status, parsed, `The server answered ${res.status} ${res.statusText || ''}`.trim());
  }
  if (opts.raw) return (await res.text()) as T;
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/**
 * Reads a task's server-sent progress stream (GET /tasks/:id/progress) with fetch, because EventSource cannot send
 * the bearer token. Calls `onTask` for every `progress` and the final `done` event and resolves with the finished
 * task; resolves null when the stream ends or breaks before `done` (the caller then polls), and when `signal` aborts.
 */
async function followProgress(id: string, onTask: (t: Task) => void, signal: AbortSignal): Promise<Task | null> {
  const headers: Record<string, string> = { 'x-keyfleet-client': 'console', accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch(`${API_BASE}/tasks/${enc(id)}/progress`, {
      headers,
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
    if (!res.ok || !res.body) return null;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let finished: Task | null = null;
    const read = eventStreamReader((event, data) => {
      if (finished || (event !== 'progress' && event !== 'done')) return;
      const task = (data as { task: Task }).task;
      onTask(task);
      if (event === 'done') finished = task;
    });
    while (!finished) {
      const { value, done } = await reader.read();
      if (done) return null;
      read(value);
    }
    void reader.cancel();
    return finished;
  } catch {
    return null; // aborted, or the connection broke: the caller reads the task instead
  }
}

export const api = {
  signIn: (body: SignInRequest) => request<SignInResponse>('POST', '/sessions', body),
  signOut: () => request<void>('DELETE', '/sessions/current'),
  whoami: () => request<WhoAmI>('GET', '/whoami'),
  regions: () => request<{ regions: Region[] }>('GET', '/regions'),
  resourceGroups: () => request<{ resourceGroups: ResourceGroup[] }>('GET', '/resource-groups'),

  instances: async (regionId: string, q: InstanceListQuery): Promise<Page<Instance>> => {
    const r = await request<{ instances: Instance[]; total: number }>(
      'GET',
      `/regions/${enc(regionId)}/instances${qs(q)}`,
    );
    return { items: r.instances, total: r.total };
  },
  instance: async (id: string) => (await request<{ instance: Instance }>('GET', `/instances/${enc(id)}`)).instance,
  instanceAction: async (id: string, action: 'start' | 'stop' | 'restart') =>
    (await request<{ instance: Instance }>('POST', `/instances/${enc(id)}/${action}`)).instance,
  /** Contacts the host once (host key checked or pinned, management key tried by a login) before anything is kept. */
  registerHost: (regionId: string, body: RegisterHostRequest) =>
    request<RegisteredHost>('POST', `/regions/${enc(regionId)}/hosts`, body),
  /** Sends an inventory to register as one task (202); every line is checked first, a bad one refuses them all. */
  importHosts: (body: ImportHostsRequest) => request<ImportHostsResponse>('POST', '/hosts/imports', body),
  /** Changes how keyfleet reaches a registered host; contacts it when the pin or the management key changes. */
  updateHost: (id: string, body: UpdateHostRequest) =>
    request<UpdatedHost>('PATCH', `/instances/${enc(id)}/host`, body),
  /** Reads registered hosts (over SSH) and simulated instances (all of the region without ids) and compares them with what keyfleet wrote; writes nothing. */
  driftScan: async (regionId: string, instanceIds?: string[]) =>
    (
      await request<{ results: DriftResult[] }>(
        'POST',
        `/regions/${enc(regionId)}/drift-scans`,
        instanceIds ? { instanceIds } : {},
      )
    ).results,
  /**
   * Scans the machines given and submits live tasks restoring keyfleet's block and drop-in on the drifted ones; the
   * credential logs in to drifted simulated instances (hosts use their management keys).
   */
  driftRepair: (regionId: string, instanceIds: string[], credential?: LiveCredential) =>
    request<DriftRepair>('POST', `/regions/${enc(regionId)}/drift-repairs`, {
      instanceIds,
      ...(credential ? { credential } : {}),
    }),
  images: async () => (await request<{ images: CatalogImage[] }>('GET', '/images')).images,
  instanceTypes: async () =>
    (await request<{ instanceTypes: CatalogInstanceType[] }>('GET', '/instance-types')).instanceTypes,
  runInstances: async (regionId: string, body: RunInstancesRequest) =>
    (await request<{ instanceIds: string[] }>('POST', `/regions/${enc(regionId)}/instances`, body)).instanceIds,
  /** Extends (or shortens) the binding's expiry in the mode it was made in; `wait` answers with the task's result. */
  extendExpiry: (id: string, body: ExtendExpiryRequest) =>
    request<BindingResult>('POST', `/instances/${enc(id)}/expiry`, body),
  resetPassword: async (id: string, password: string) =>
    (await request<{ instance: Instance }>('POST', `/instances/${enc(id)}/reset-password`, { password })).instance,

  keyPairs: async (regionId: string, q: KeyPairListQuery): Promise<Page<KeyPair>> => {
    const r = await request<{ keyPairs: KeyPair[]; total: number }>(
      'GET',
      `/regions/${enc(regionId)}/key-pairs${qs(q)}`,
    );
    return { items: r.keyPairs, total: r.total };
  },
  keyPair: (regionId: string, name: string) =>
    request<KeyPairDetail>('GET', `/regions/${enc(regionId)}/key-pairs/${enc(name)}`),
  createKeyPair: (regionId: string, body: CreateKeyPairRequest) =>
    request<CreatedKeyPair>('POST', `/regions/${enc(regionId)}/key-pairs`, body),
  deleteKeyPair: (regionId: string, name: string) =>
    request<void>('DELETE', `/regions/${enc(regionId)}/key-pairs/${enc(name)}`),

  bindings: (regionId: string, body: BindingRequest) =>
    request<BindingResult>('POST', `/regions/${enc(regionId)}/bindings`, body),

  tasks: async (q: TaskListQuery): Promise<Page<Task>> => {
    const r = await request<{ tasks: Task[]; total: number }>('GET', `/tasks${qs(q)}`);
    return { items: r.tasks, total: r.total };
  },
  task: async (id: string) => (await request<{ task: Task }>('GET', `/tasks/${enc(id)}`)).task,
  taskProgress: followProgress,
  taskItems: async (id: string, q: TaskItemsQuery): Promise<Page<TaskItem>> => {
    const r = await request<{ items: TaskItem[]; total: number }>('GET', `/tasks/${enc(id)}/items${qs(q)}`);
    return { items: r.items, total: r.total };
  },

  audit: async (q: AuditQuery): Promise<Page<AuditEntry>> => {
    const r = await request<{ entries: AuditEntry[]; total: number }>('GET', `/audit${qs(q as Query)}`);
    return { items: r.entries, total: r.total };
  },
  users: async () => (await request<{ users: User[] }>('GET', '/users')).users,
  createUser: async (body: CreateUserRequest) => (await request<{ user: User }>('POST', '/users', body)).user,
  deleteUser: (name: string) => request<void>('DELETE', `/users/${enc(name)}`),
  setUserPassword: (name: string, password: string | null) =>
    request<void>('PUT', `/users/${enc(name)}/password`, { password }),
  accessKeys: async (userName: string) =>
    (await request<{ accessKeys: AccessKey[] }>('GET', `/users/${enc(userName)}/access-keys`)).accessKeys,
  createAccessKey: (userName: string) => request<CreatedAccessKey>('POST', `/users/${enc(userName)}/access-keys`),
  setAccessKeyStatus: (id: string, status: AccessKeyStatus) =>
    request<void>('PATCH', `/access-keys/${enc(id)}`, { status }),
  deleteAccessKey: (id: string) => request<void>('DELETE', `/access-keys/${enc(id)}`),
  policies: async () => (await request<{ policies: Policy[] }>('GET', '/policies')).policies,
  createPolicy: async (body: CreatePolicyRequest) =>
    (await request<{ policy: Policy }>('POST', '/policies', body)).policy,
  /** `force`: detach it from every user and group that has it first (otherwise refused while attached). */
  deletePolicy: (name: string, opts: { force?: boolean } = {}) =>
    request<void>('DELETE', `/policies/${enc(name)}${opts.force ? '?force=true' : ''}`),
  userPolicies: async (userName: string) =>
    (await request<{ policies: Policy[] }>('GET', `/users/${enc(userName)}/policies`)).policies,
  attachPolicy: (userName: string, policy: string) =>
    request<void>('PUT', `/users/${enc(userName)}/policies/${enc(policy)}`),
  detachPolicy: (userName: string, policy: string) =>
    request<void>('DELETE', `/users/${enc(userName)}/policies/${enc(policy)}`),
  groups: async () => (await request<{ groups: Group[] }>('GET', '/groups')).groups,
  group: (name: string) => request<GroupDetail>('GET', `/groups/${enc(name)}`),
  createGroup: async (body: CreateGroupRequest) => (await request<{ group: Group }>('POST', '/groups', body)).group,
  deleteGroup: (name: string) => request<void>('DELETE', `/groups/${enc(name)}`),
  addGroupMember: (group: string, userName: string) =>
    request<void>('PUT', `/groups/${enc(group)}/members/${enc(userName)}`),
  removeGroupMember: (group: string, userName: string) =>
    request<void>('DELETE', `/groups/${enc(group)}/members/${enc(userName)}`),
  attachGroupPolicy: (group: string, policy: string) =>
    request<void>('PUT', `/groups/${enc(group)}/policies/${enc(policy)}`),
  detachGroupPolicy: (group: string, policy: string) =>
    request<void>('DELETE', `/groups/${enc(group)}/policies/${enc(policy)}`),
  userGroups: async (userName: string) =>
    (await request<{ groups: Group[] }>('GET', `/users/${enc(userName)}/groups`)).groups,
  /** The system administrator only: everyone else gets 403 Auth.Forbidden. */
  accounts: async () => (await request<{ accounts: Account[] }>('GET', '/accounts')).accounts,
  createAccount: (body: CreateAccountRequest) => request<CreatedAccount>('POST', '/accounts', body),

  auditExport: (q: AuditQuery) => request<string>('GET', `/audit/export${qs(q as Query)}`, undefined, { raw: true }),
};
