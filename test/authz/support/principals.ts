/**
 * Principals for the authorization tests: a RAM user created through the native API with an access key and the
 * policies a case asks for, plus one client per face signed with that user's key (raw signed ECS calls, the
 * Huawei core SDK for KPS/Nova, the native client).
 */
import { Api } from '../../support/keyfleet.js';
import { ecsCall } from '../../ecs/support/raw-ecs.js';
import { type Kps, kpsWithAkSk } from '../../kps/support/huawei.js';

/** One answer, whatever the face: HTTP status, error code, and per-instance codes of batch calls. */
export interface Answer {
  status: number;
  code?: string;
  itemCodes?: string[];
  body?: any;
}

export interface Principal {
  name: string;
  /** The user's access key: what the signed faces (ECS, KPS) record as the caller's accessKeyId. */
  accessKeyId: string;
  native: Api;
  ecs(action: string, params?: Record<string, string>): Promise<Answer>;
  kps(op: Parameters<Kps['call']>[0]): Promise<Answer>;
}

let seq = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid.toString(36)}-${(++seq).toString(36)}`;

export type Statement = { Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource?: string | string[] };

export async function principal(
  admin: Api,
  url: string,
  projectId: string,
  statements: Statement[][],
): Promise<Principal> {
  const name = unique('u');
  await admin.call('POST', '/api/v1/users', { name, password: 'User-Pass-0001!' });
  const key = await admin.call('POST', `/api/v1/users/${name}/access-keys`, {});
  const ak: string = key.accessKeyId ?? key.accessKey?.accessKeyId;
  const sk: string = key.accessKeySecret ?? key.accessKey?.accessKeySecret;
  for (const st of statements) {
    const policy = unique('p');
    await admin.call('POST', '/api/v1/policies', { name: policy, document: { Version: '1', Statement: st } });
    await admin.call('PUT', `/api/v1/users/${name}/policies/${policy}`);
  }
  const native = new Api(url);
  await native.signIn({ accessKeyId: ak, accessKeySecret: sk });
  const kps = kpsWithAkSk(url, { projectId, ak, sk });
  return {
    name,
    accessKeyId: ak,
    native,
    async ecs(action, params = {}) {
      const r = await ecsCall(url, { action, params, accessKeyId: ak, secret: sk });
      const items = r.body?.Results?.Result;
      return {
        status: r.status,
        code: r.body?.Code,
        itemCodes: Array.isArray(items) ? items.map((i: any) => String(i.Code)) : undefined,
        body: r.body,
      };
    },
    async kps(op) {
      try {
        return { status: 200, body: await kps.call(op) };
      } catch (err) {
        const e = err as { httpStatusCode?: number; errorCode?: string; errorMsg?: string };
        if (e.httpStatusCode === undefined) throw err;
        return { status: e.httpStatusCode, code: e.errorCode, body: e.errorMsg };
      }
    },
  };
}

/** A native call as an Answer. */
export async function nativeAnswer(api: Api, method: string, path: string, body?: unknown): Promise<Answer> {
  const r = await api.raw(method, path, body);
  const items = path.includes('/bindings') ? r.body?.items : undefined;
  return {
    status: r.status,
    code: r.body?.code ?? r.body?.error?.code,
    itemCodes: Array.isArray(items) ? items.map((i: any) => i.errorCode ?? 'OK') : undefined,
    body: r.body,
  };
}
