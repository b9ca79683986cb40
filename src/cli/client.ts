/**
 * A thin client of the native API for the CLI. Credentials come from the environment (or flags); each command
 * signs in, does its work, and signs out, so no token is left behind on disk.
 */
import { eventStreamReader } from '../api/native/event-stream.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  endpoint: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  userName?: string;
  password?: string;
}

export class KeyfleetClient {
  private token: string | null = null;
  constructor(private readonly opts: ClientOptions) {}

  async signIn(): Promise<void> {
    const body = this.opts.accessKeyId
      ? { accessKeyId: this.opts.accessKeyId, accessKeySecret: this.opts.accessKeySecret }
      : { userName: this.opts.userName, password: this.opts.password };
    if (!this.opts.accessKeyId && !this.opts.userName) {
      throw new ApiError(
        401,
        'Auth.Unauthenticated',
        'No credentials: set KEYFLEET_ACCESS_KEY_ID and KEYFLEET_ACCESS_KEY_SECRET (or --user and KEYFLEET_PASSWORD).',
      );
    }
    const res = await this.raw('POST', '/api/v1/sessions', body);
    this.token = (res as { token: string }).token;
  }

  async signOut(): Promise<void> {
    if (this.token) await this.raw('DELETE', '/api/v1/sessions/current').catch(() => undefined);
    this.token = null;
  }

  request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    return this.raw(method, path, body) as Promise<T>;
  }

  /**
   * Reads a server-sent event stream, calling `onEvent` for each event, until the server ends it. Errors before
   * the stream starts are ApiErrors like any other call's.
   */
  async stream(path: string, onEvent: (event: string, data: any) => void): Promise<void> {
    const headers: Record<string, string> = { 'x-keyfleet-client': 'cli', accept: 'text/event-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.opts.endpoint.replace(/\/$/, '') + path, { headers });
    } catch (err) {
      throw new ApiError(0, 'Unreachable', `Cannot reach keyfleet at ${this.opts.endpoint}: ${(err as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const json: any = await res.json().catch(() => null);
      throw new ApiError(res.status, json?.code ?? 'Error', json?.message ?? `HTTP ${res.status}`, json?.requestId);
    }
    const decoder = new TextDecoder();
    const read = eventStreamReader(onEvent);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      read(decoder.decode(chunk, { stream: true }));
  }

  /** A GET whose answer is not JSON (a CSV export): the body as text. */
  async text(path: string): Promise<string> {
    const headers: Record<string, string> = { 'x-keyfleet-client': 'cli' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.opts.endpoint.replace(/\/$/, '') + path, { headers });
    } catch (err) {
      throw new ApiError(0, 'Unreachable', `Cannot reach keyfleet at ${this.opts.endpoint}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {}
      throw new ApiError(res.status, json?.code ?? 'Error', json?.message ?? `HTTP ${res.status}`, json?.requestId);
    }
    return text;
  }

  private async raw(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'x-keyfleet-client': 'cli' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.opts.endpoint.replace(/\/$/, '') + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(
        0,
        'Unreachable',
        `Cannot reach keyfleet at ${this.opts.endpoint}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError(res.status, 'BadResponse', `Unexpected response from keyfleet (HTTP ${res.status}).`);
    }
    if (!res.ok)
      throw new ApiError(res.status, json?.code ?? 'Error', json?.message ?? `HTTP ${res.status}`, json?.requestId);
    return json;
  }
}
