/**
 * The official Huawei Node SDKs pointed at a keyfleet, the way SDK-TRAFFIC.md §2 describes:
 * - KPS has no npm package, so KPS calls go through the core SDK's generic `HcClient.sendRequest` with the same
 *   operation descriptors the generated KpsClient would build;
 * - the ECS SDK's Nova calls; the IAM SDK's password token (sub-path import, §6.3).
 * A project id is discovered the way the SDK does it (BasicCredentials + Region → GET /v3/projects?name=…).
 * Tokens are sent by a small ICredential that puts X-Auth-Token on the request instead of signing it.
 */
import { BasicCredentials, GlobalCredentials, Region } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js';
import type { IHttpRequest } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js';
import { EcsClient } from '@huaweicloud/huaweicloud-sdk-ecs';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';
import {
  AuthScope,
  AuthScopeProject,
  IamClient,
  KeystoneCreateUserTokenByPasswordRequest,
  KeystoneCreateUserTokenByPasswordRequestBody,
  PwdAuth,
  PwdIdentity,
  PwdPassword,
  PwdPasswordUser,
  PwdPasswordUserDomain,
} from '@huaweicloud/huaweicloud-sdk-iam/v3/public-api.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, ADMIN_PASSWORD, sleep } from '../../support/keyfleet.js';

export const REGION = 'cn-hangzhou';

// On every failed call the SDK prints its whole request to stdout, body and Authorization header included
// (SDK-TRAFFIC.md §5): in these tests that body holds root passwords and private keys. Keep it quiet.
(Logger4jInstance as { level: string }).level = 'off';

/** The core SDK's operation descriptor (what generated clients hand to `sendRequest`). */
export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  pathParams?: Record<string, string>;
  queryParams?: Record<string, string | number>;
  data?: unknown;
  axiosRequestConfig?: Record<string, unknown>;
}

export interface Kps {
  call(op: Operation): Promise<any>;
}

function kpsOver(hc: HcClient): Kps {
  return {
    call: (op) =>
      hc.sendRequest({
        method: op.method,
        url: op.url,
        contentType: op.data !== undefined ? 'application/json;charset=UTF-8' : 'application/json',
        queryParams: op.queryParams ?? {},
        pathParams: op.pathParams ?? {},
        headers: {},
        data: op.data,
        ...(op.axiosRequestConfig ? { axiosRequestConfig: op.axiosRequestConfig } : {}),
      } as never),
  };
}

/** AK/SK client; without `projectId` the SDK resolves the region's project through IAM, as in capture 07. */
export function kpsWithAkSk(
  url: string,
  opts: { projectId?: string; ak?: string; sk?: string; region?: string } = {},
): Kps {
  const cred = new BasicCredentials()
    .withAk(opts.ak ?? ACCESS_KEY_ID)
    .withSk(opts.sk ?? ACCESS_KEY_SECRET)
    .withIamEndpoint(url);
  const builder = new ClientBuilder((hc) => hc).withCredential(
    opts.projectId ? cred.withProjectId(opts.projectId) : cred,
  );
  const hc = opts.projectId
    ? builder.withEndpoint(url).build()
    : builder.withRegion(new Region(opts.region ?? REGION, url)).build();
  return kpsOver(hc);
}

/** Token client: `{project_id}` filled in and X-Auth-Token sent; no signature. */
export function kpsWithToken(url: string, token: string, projectId: string): Kps {
  const credential: ICredential = {
    getAk: () => undefined,
    getSk: () => undefined,
    processAuthParams: async () => credential,
    processAuthRequest: async (_hc: HcClient, req: IHttpRequest) => {
      req.url = (req.url ?? '').replace('{project_id}', encodeURIComponent(projectId));
      req.headers = { ...(req.headers ?? {}), 'X-Auth-Token': token };
      return req;
    },
  };
  return kpsOver(new ClientBuilder((hc) => hc).withCredential(credential).withEndpoint(url).build());
}

/** The project id of a region, asked the way the SDK asks (signed GET /v3/projects?name=…). */
export async function projectIdOf(url: string, region = REGION): Promise<string> {
  const kps = kpsWithAkSk(url, { projectId: 'unused' });
  const res = await kps.call({ method: 'GET', url: '/v3/projects', queryParams: { name: region } });
  if (res.projects?.length !== 1) throw new Error(`expected one project for ${region}: ${JSON.stringify(res)}`);
  return res.projects[0].id;
}

/** A project-scoped IAM token from the IAM SDK (password identity); the SDK copies X-Subject-Token into the result. */
export async function iamToken(
  url: string,
  opts: { region?: string; password?: string; domain?: string } = {},
): Promise<{ token: string; body: any }> {
  const iam = IamClient.newBuilder()
    .withCredential(new GlobalCredentials().withAk(ACCESS_KEY_ID).withSk(ACCESS_KEY_SECRET).withIamEndpoint(url))
    .withEndpoint(url)
    .build();
  const user = new PwdPasswordUser()
    .withDomain(new PwdPasswordUserDomain().withName(opts.domain ?? 'keyfleet'))
    .withName('admin')
    .withPassword(opts.password ?? ADMIN_PASSWORD);
  const auth = new PwdAuth(
    new PwdIdentity(['password'], new PwdPassword(user)),
    new AuthScope().withProject(new AuthScopeProject().withName(opts.region ?? REGION)),
  );
  const res: any = await iam.keystoneCreateUserTokenByPassword(
    new KeystoneCreateUserTokenByPasswordRequest()
      .withNocatalog('true')
      .withBody(new KeystoneCreateUserTokenByPasswordRequestBody(auth)),
  );
  return { token: res['X-Subject-Token'], body: res };
}

/** The ECS SDK; with a Region (no project id) it resolves the project through IAM first. */
export function ecsClient(url: string, opts: { projectId?: string } = {}): EcsClient {
  const cred = new BasicCredentials().withAk(ACCESS_KEY_ID).withSk(ACCESS_KEY_SECRET).withIamEndpoint(url);
  const builder = EcsClient.newBuilder();
  if (opts.projectId) return builder.withCredential(cred.withProjectId(opts.projectId)).withEndpoint(url).build();
  return builder.withCredential(cred).withRegion(new Region(REGION, url)).build();
}

/** The KPS task_status values a task ends in. */
const TERMINAL = /^(SUCCESS|FAILED)_/;

/** Polls ListKeypairTask until the task ends; returns its last answer. */
export async function pollTask(kps: Kps, taskId: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/tasks/{task_id}',
      pathParams: { task_id: taskId },
    });
    if (TERMINAL.test(t.task_status)) return t;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${t.task_status} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** The SDK's exception for a non-2xx answer, as a plain object for assertions. */
export async function sdkError(
  p: Promise<unknown>,
): Promise<{ httpStatusCode: number; errorCode?: string; errorMsg?: string; requestId?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { httpStatusCode: number; errorCode?: string; errorMsg?: string; requestId?: string };
    return { httpStatusCode: e.httpStatusCode, errorCode: e.errorCode, errorMsg: e.errorMsg, requestId: e.requestId };
  }
  throw new Error('expected the SDK call to fail');
}
