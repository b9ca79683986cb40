/**
 * Three keyfleet processes on one fresh PostgreSQL database, as an operator runs them behind a load balancer:
 * the same master key, their own ports and data directories; only the first serves the simulated fleet's SSH
 * (KEYFLEET_SIM_SERVE=1), all share its port number so any of them reaches the machines. Each process is a child
 * started as users start keyfleet; the test ends them by PID.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { freshPostgres } from '../../support/fresh-postgres.js';
import { Api, startChild, testEnv } from '../../support/keyfleet.js';

export interface Member {
  name: 'A' | 'B' | 'C';
  env: Record<string, string>;
  url: string;
  child: ChildProcess | null;
}

export class SharedStoreCluster {
  private constructor(
    readonly members: Member[],
    /** The database the three share, for a test that looks at rows directly. */
    readonly databaseUrl: string,
    private readonly drop: () => Promise<void>,
  ) {}

  static async start(extra: Record<string, string> = {}): Promise<SharedStoreCluster> {
    const db = await freshPostgres();
    const masterKey = randomBytes(32).toString('base64');
    const simPort = String(20000 + Math.floor(Math.random() * 20000));
    const members: Member[] = [];
    const cluster = new SharedStoreCluster(members, db.url, db.drop);
    try {
      for (const name of ['A', 'B', 'C'] as const) {
        const env = await testEnv({
          databaseUrl: db.url,
          bootMs: 0,
          extra: {
            KEYFLEET_MASTER_KEY: masterKey,
            KEYFLEET_SIM_SSH_PORT: simPort,
            KEYFLEET_SIM_SERVE: name === 'A' ? '1' : '0',
            ...extra,
          },
        });
        const member: Member = { name, env, url: `http://127.0.0.1:${env.KEYFLEET_PORT}`, child: null };
        members.push(member);
      }
      // The first creates the schema and the administrator; the others, started side by side, find them.
      await cluster.launch(members[0]!);
      await Promise.all(members.slice(1).map((m) => cluster.launch(m)));
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  get a(): Member {
    return this.members[0]!;
  }
  get b(): Member {
    return this.members[1]!;
  }
  get c(): Member {
    return this.members[2]!;
  }

  async launch(member: Member): Promise<void> {
    const run = await startChild(member.env);
    member.child = run.child;
  }

  /** Stops the member's process (SIGTERM, by PID) and waits for it to exit. */
  async stop(member: Member): Promise<void> {
    const child = member.child;
    member.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async restart(member: Member): Promise<void> {
    await this.stop(member);
    await this.launch(member);
  }

  /** A native-API client of the member, signed in as the bootstrap administrator. */
  async admin(member: Member): Promise<Api> {
    const api = new Api(member.url);
    await api.signIn();
    return api;
  }

  async close(): Promise<void> {
    for (const m of this.members) await this.stop(m);
    for (const m of this.members) await fs.rm(m.env.KEYFLEET_DATA_DIR!, { recursive: true, force: true });
    await this.drop();
  }
}
