/** Revocations (issue 19): plan, apply, and the report, in the shape the native API answers. */
import { API_BASE, ApiError, currentToken } from './client';

export type MachineState = 'planned' | 'pending' | 'refused' | 'unreachable' | 'failed' | 'skipped';

export interface Revocation {
  id: string;
  regionId: string;
  status: 'planned' | 'applying' | 'finished';
  target: { kind: 'keyPair' | 'fingerprint' | 'publicKey'; keyPairName?: string; fingerprint?: string };
  key: { type: string; fingerprintSha256: string; fingerprintMd5: string };
  keyPairNames: string[];
  includeUnmanaged: boolean;
  retryUntil: string | null;
  createdBy: string;
  createdAt: string;
  appliedAt: string | null;
  finishedAt: string | null;
  machineCount: number;
  counts: Record<MachineState, number>;
}

export interface RevocationMachine {
  instanceId: string;
  backend: 'sim' | 'host';
  name: string;
  address: string;
  sshPort: number;
  boundKeyPairName: string | null;
  copies: Array<{ account: 'user' | 'root'; user: string; path: string; line: number; inBlock: boolean }>;
  copiesOutsideBlock: number;
  scanError: string | null;
  state: MachineState;
  outcome: string;
  detail: string | null;
  verifiedAt: string | null;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'x-keyfleet-client': 'console' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
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
  if (!res.ok) {
    const parsed = await res.json().catch(() => null);
    throw new ApiError(res.status, parsed, `The server answered ${res.status} ${res.statusText || ''}`.trim());
  }
  return res;
}

const call = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
  (await (await send(method, path, body)).json()) as T;
const enc = encodeURIComponent;

export const revocationsApi = {
  list: (regionId: string) =>
    call<{ revocations: Revocation[]; total: number }>('GET', `/regions/${enc(regionId)}/revocations?limit=50`),
  plan: (regionId: string, body: { keyPairName?: string; fingerprint?: string; publicKey?: string }) =>
    call<{ revocation: Revocation }>('POST', `/regions/${enc(regionId)}/revocations`, body),
  get: (id: string) => call<{ revocation: Revocation }>('GET', `/revocations/${enc(id)}`),
  machines: (id: string, offset: number, limit: number) =>
    call<{ revocation: Revocation; machines: RevocationMachine[]; total: number }>(
      'GET',
      `/revocations/${enc(id)}/machines?offset=${offset}&limit=${limit}`,
    ),
  apply: (id: string, body: { includeUnmanaged: boolean; retryForSeconds: number }) =>
    call<{ revocation: Revocation }>('POST', `/revocations/${enc(id)}/apply`, body),
  csv: async (id: string) => (await send('GET', `/revocations/${enc(id)}/report?format=csv`)).text(),
};
