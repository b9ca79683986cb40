/**
 * Benchmark: what one host costs keyfleet's SSH adapter in time, against one Debian sshd of the test harness
 * (Debian's sftp-server subsystem, an ed25519 key login), sequentially, one connection at a time:
 *
 *   login          openSession: TCP, key exchange, key login (a session is ready)
 *   first answer   the session's first readFile: channel, subsystem, INIT and the read (ADR 10: ~5 ms on an idle
 *                  host; 40+ ms when sshd's notices after the login are not acknowledged, Nagle + delayed ACK)
 *   tryLogin       a bare key login, closed at once
 *   probeLogin     the credential-less PK_OK probe
 *
 * Prints median and p90 of each over BENCH_RUNS runs (default 41) after 3 warm-up runs. Wall-clock figures
 * depend on the machine and its load: they belong here, not in tests (test/backends/lean-transport.test.ts shows
 * the acknowledgement on sshd's log instead).
 *
 *   node --import tsx bench/ssh-first-answer.ts
 *   BENCH_RUNS=101 node --import tsx bench/ssh-first-answer.ts
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { probeLogin, openSession, tryLogin } from '../src/backends/ssh/ssh-session.js';
import { sshKeygen } from '../test/support/openssh.js';
import { startHosts, stopHosts } from '../test/support/sshd-harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 41);
const WARM_UP = 3;

async function main(): Promise<void> {
  const [host] = await startHosts(1, { user: 'kfbench', sftp: '/usr/lib/openssh/sftp-server' });
  try {
    const key = await sshKeygen('ed25519', 'bench');
    const privateKey = await fs.readFile(key.privateKeyPath, 'utf8');
    const ssh = path.join(host!.home, '.ssh');
    await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(ssh, 'authorized_keys'), `${key.publicKey}\n`, { mode: 0o600 });
    for (const p of [ssh, path.join(ssh, 'authorized_keys')]) await fs.chown(p, host!.uid, host!.gid);

    const target = { host: host!.address, port: host!.port, username: host!.user };
    const credential = { kind: 'privateKey', privateKey } as const;
    const pin = { kind: 'pinned', sha256: host!.hostKeySha256 } as const;
    const samples: Record<string, number[]> = { login: [], 'first answer': [], tryLogin: [], probeLogin: [] };
    const timed = async <T>(name: string, work: () => Promise<T>, keep: boolean): Promise<T> => {
      const t0 = performance.now();
      const result = await work();
      if (keep) samples[name]!.push(performance.now() - t0);
      return result;
    };

    for (let n = 0; n < WARM_UP + RUNS; n++) {
      const keep = n >= WARM_UP;
      const session = await timed('login', () => openSession(target, credential, pin), keep);
      const file = await timed('first answer', () => session.readFile('.ssh/authorized_keys'), keep);
      session.close();
      if (!file) throw new Error('authorized_keys was not read');
      if (!(await timed('tryLogin', () => tryLogin(target, credential, pin), keep)).ok)
        throw new Error('the key login was refused');
      if ((await timed('probeLogin', () => probeLogin(target, pin, key.publicKey), keep)).keyAccepted !== true)
        throw new Error('the probe did not accept the key');
    }

    console.log(`keyfleet's SSH adapter against one Debian sshd, ${RUNS} runs (ms)`);
    console.log(`${'step'.padEnd(14)}${'median'.padStart(9)}${'p90'.padStart(9)}`);
    for (const [name, values] of Object.entries(samples)) {
      console.log(
        `${name.padEnd(14)}${percentile(values, 0.5).toFixed(1).padStart(9)}${percentile(values, 0.9).toFixed(1).padStart(9)}`,
      );
    }
  } finally {
    await stopHosts([host!]);
  }
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

await main();
