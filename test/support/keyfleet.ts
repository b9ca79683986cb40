/**
 * Starts a real keyfleet for a test: in-process (fast) or as a child process (for crash tests), with its own
 * data directory, a free HTTP port and its own simulated-fleet SSH port; plus a small native-API client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/app/config.js';
import { type Keyfleet, startKeyfleet } from '../../src/app/keyfleet.js';
import { tempDir } from './tmp.js';

export { tempDir };

export const ACCESS_KEY_ID = 'LTAItestAccessKey0001';
export const ACCESS_KEY_SECRET = 'testSecretForLoopbackOnly0001';
export const ADMIN_PASSWORD = 'Admin-Pass-0001';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface TestEnvOptions {
  dataDir?: string;
  databaseUrl?: string;
  bootMs?: number;
  simPort?: number;
  extra?: Record<string, string>;
}

export async function testEnv(opts: TestEnvOptions = {}): Promise<Record<string, string>> {
  return {
    KEYFLEET_PORT: String(await freePort()),
    KEYFLEET_DATA_DIR: opts.dataDir ?? tempDir(),
    KEYFLEET_SIM_SSH_PORT: String(opts.simPort ?? 20000 + Math.floor(Math.random() * 20000)),
    KEYFLEET_SIM_BOOT_MS: String(opts.bootMs ?? 20),
    KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
    KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    KEYFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    KEYFLEET_LOG_LEVEL: process.env.KEYFLEET_TEST_LOG_LEVEL ?? 'silent',
    ...(opts.databaseUrl ? { KEYFLEET_DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.extra,
  };
}

/** keyfleet in this process. */
export async function startInProcess(
  opts: TestEnvOptions = {},
): Promise<{ kf: Keyfleet; api: Api; env: Record<string, string> }> {
  const env = await testEnv(opts);
  const kf = await startKeyfleet(loadConfig(env));
  const api = new Api(kf.url);
  await api.signIn();
  return { kf, api, env };
}

/** keyfleet as a child process, started the way a user starts it (`node bin/keyfleet.js serve`). */
export async function startChild(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, [path.join(root, 'bin/keyfleet.js'), 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${env.KEYFLEET_PORT}`;
  // A safety net only (a start that never comes), generous because a loaded CI machine can take long to start
  // tsx and migrate a store; a start that fails says so at once through the exit code.
  const deadline = Date.now() + 180_000;
  while (!out.includes('keyfleet listening')) {
    if (child.exitCode !== null) throw new Error(`keyfleet exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`keyfleet did not start:\n${out}`);
    await sleep(50);
  }
  return { child, url, output: () => out };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/** A minimal client of the native API, as any user's script would be. */
export class Api {
  token: string | null = null;
  constructor(readonly url: string) {}

  async signIn(
    creds: Record<string, string> = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET },
  ): Promise<void> {
    this.token = null;
    const r = await this.call('POST', '/api/v1/sessions', creds);
    this.token = r.token;
  }

  async raw(
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    if (this.token) h.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.url + p, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  }

  async call(method: string, p: string, body?: unknown): Promise<any> {
    const r = await this.raw(method, p, body);
    if (r.status >= 400) throw new ApiFailure(r.status, r.body);
    return r.body;
  }

  async createKeyPair(
    name: string,
    type: 'rsa' | 'ed25519' = 'rsa',
    region = 'cn-hangzhou',
  ): Promise<{ keyPair: any; privateKey: string }> {
    return this.call('POST', `/api/v1/regions/${region}/key-pairs`, { name, type });
  }

  async run(body: Record<string, unknown>, region = 'cn-hangzhou'): Promise<string[]> {
    return (await this.call('POST', `/api/v1/regions/${region}/instances`, body)).instanceIds;
  }

  async instance(id: string): Promise<any> {
    return (await this.call('GET', `/api/v1/instances/${id}`)).instance;
  }

  /** Waits until every instance is in `status`. */
  async waitStatus(ids: string[], status: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const id of ids) {
      for (;;) {
        const i = await this.instance(id);
        if (i.status === status) break;
        if (Date.now() > deadline) throw new Error(`instance ${id} is ${i.status}, not ${status}`);
        await sleep(25);
      }
    }
  }

  async bind(body: Record<string, unknown>, region = 'cn-hangzhou'): Promise<{ task: any; items: any[] }> {
    return this.call('POST', `/api/v1/regions/${region}/bindings`, { wait: true, ...body });
  }

  async restart(id: string): Promise<void> {
    await this.call('POST', `/api/v1/instances/${id}/restart`);
    await this.waitStatus([id], 'Running');
  }
}

export const LINUX_IMAGE = 'ubuntu_22_04_x64_20G_alibase_20240926.vhd';
export const WINDOWS_IMAGE = 'win2022_21H2_x64_dtc_en-us_40G_alibase_20240816.vhd';
