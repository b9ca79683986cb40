/**
 * Issue 16, the fault suite: `kill -9` of keyfleet at ≥20 random moments during live binds and unbinds of 100
 * simulated instances (credential: the root password, then the private key of the key pair bound now) and of 20
 * real Debian sshd hosts (keyfleet's sealed management key). After every restart keyfleet must finish each task by
 * itself, every item succeeding (every machine answers and every credential is right: a kill is the only fault,
 * and a credential refused because its change already took effect counts as success), and once a task has ended
 * every machine must do exactly what keyfleet reports for it, checked with the real OpenSSH client: `ssh -i` with
 * each test key logs in iff keyfleet reports that key pair bound, and password login works iff keyfleet reports
 * password login on (and nothing is left waiting for a restart). No credential may be found in plaintext (or hex, base64)
 * in any file of the data directory, at any kill or after any round, nor in keyfleet's log; and a task's sealed
 * credential is gone once the task has ended.
 *
 * Moments are drawn from a seeded PRNG (the seed is printed; KEYFLEET_FAULT_SEED=<n> replays a run's choices): a
 * kill aims at the hosts' or the sims' task (evenly, while it runs) and lands once k of its items are done, k
 * uniform over what is left (or, one time in five, at once: right after the submission or while a restarted
 * keyfleet resumes), so kills spread from right after the submission to the last item; a resumed task may be
 * killed again. Items are paced (KEYFLEET_TASK_ITEMS_PER_SECOND) so that each kill finds items in flight. Timing
 * (which items a kill interrupts) is not part of the seed, so a replay reproduces the moments, not the exact cut.
 * Seconds are printed as diagnostics only; nothing is asserted on time except a bound on a task finishing.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { type Api, sleep, tempDir } from '../support/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import { FaultFleet, type Machine, REGION } from './support/kill-nine-fleet.js';
import { disagreement, observeAll, type Reported, summary, type TestKey } from './support/kill-nine-observe.js';
import { ed25519Seed, type Secret, scanForSecrets } from './support/kill-nine-secrets.js';

const SIMS = 100;
const HOSTS = 20;
const MIN_KILLS = 20;
/** 120 items a round at this pace take about 8 s when nothing is killed. */
const ITEMS_PER_SECOND = 15;
/** How long a task may take to finish after the last restart of its round (a liveness bound, not a speed test). */
const FINISH_BOUND_MS = 180_000;

const SEED = Number(process.env.KEYFLEET_FAULT_SEED ?? randomInt(2 ** 31));
const random = mulberry32(SEED);

const KEY_A = 'fault-a';
const KEY_B = 'fault-b';

interface Step {
  action: 'bind' | 'unbind';
  keyPairName: string;
  /** What the simulated instances are changed with: their root password, or the key pair bound there now. */
  credential: 'password' | typeof KEY_A | typeof KEY_B;
}

/** Bind, replace, unbind, bind again, unbind: every credential refused once its change has taken effect. */
const STEPS: Step[] = [
  { action: 'bind', keyPairName: KEY_A, credential: 'password' },
  { action: 'bind', keyPairName: KEY_B, credential: KEY_A },
  { action: 'unbind', keyPairName: KEY_B, credential: KEY_B },
  { action: 'bind', keyPairName: KEY_A, credential: 'password' },
  { action: 'unbind', keyPairName: KEY_A, credential: KEY_A },
];
const MAX_ROUNDS = 8;

let fleet: FaultFleet | undefined;
after(async () => {
  await fleet?.close();
});

test('the credential scan finds a credential stored in the clear, in hex or base64, and nothing in public data', async () => {
  const dir = tempDir();
  const key = await sshKeygen('ed25519', 'scan-control');
  const other = await sshKeygen('ed25519', 'another');
  const pem = await fs.readFile(key.privateKeyPath, 'utf8');
  const secrets: Secret[] = [
    { label: 'password', text: 'Kf9-0123456789abcdef' },
    { label: 'key', text: pem },
  ];
  await fs.mkdir(path.join(dir, 'disk'));
  await fs.writeFile(path.join(dir, 'a.json'), JSON.stringify({ credential: { password: 'Kf9-0123456789abcdef' } }));
  await fs.writeFile(path.join(dir, 'disk', 'b'), Buffer.from(JSON.stringify({ privateKey: pem })).toString('base64'));
  await fs.writeFile(path.join(dir, 'c.bin'), Buffer.concat([Buffer.from('x'), ed25519Seed(pem), Buffer.from('y')]));
  // Public data only: the key's public half, and another private key (same OpenSSH header, other seed).
  await fs.writeFile(path.join(dir, 'd'), `${key.publicKey}\n${await fs.readFile(other.privateKeyPath, 'utf8')}`);
  const found = await scanForSecrets(dir, secrets, [{ label: 'log', text: `login with ${JSON.stringify(pem)}` }]);
  await fs.rm(dir, { recursive: true, force: true });
  const where = [...new Set(found.map((x) => `${x.where}: ${x.secret}`))].sort();
  assert.deepEqual(where, ['a.json: password', 'c.bin: key', 'disk/b: key', 'log: key']);
});

test('kill -9 at ≥20 random moments of live binds and unbinds: every task finishes, every machine does what keyfleet reports, no credential in the clear', {
  timeout: 900_000,
}, async (t) => {
  t.diagnostic(`seed ${SEED} (KEYFLEET_FAULT_SEED=${SEED} replays the kill moments)`);
  const startedAt = Date.now();
  const started = await FaultFleet.start({ sims: SIMS, hosts: HOSTS, itemsPerSecond: ITEMS_PER_SECOND });
  fleet = started.fleet;
  const machines = started.machines;
  const f = fleet;

  const privateKeys = new Map<string, string>();
  const keys: TestKey[] = [];
  for (const name of [KEY_A, KEY_B]) {
    const { privateKey } = await f.api!.createKeyPair(name, 'ed25519', REGION);
    privateKeys.set(name, privateKey);
    keys.push({ name, privateKeyPath: await writePrivateKey(privateKey) });
  }
  const secrets: Secret[] = [
    { label: 'root password', text: f.rootPassword },
    { label: `private key '${KEY_A}'`, text: privateKeys.get(KEY_A)! },
    { label: `private key '${KEY_B}'`, text: privateKeys.get(KEY_B)! },
    { label: 'management private key', text: f.managementKey },
  ];
  let scanMs = 0;
  const scan = async (when: string): Promise<string[]> => {
    const at = Date.now();
    const logs = f.logs().map((text, n) => ({ label: `log of keyfleet process ${n + 1}`, text }));
    const found = await scanForSecrets(f.dataDir, secrets, logs);
    scanMs += Date.now() - at;
    return found.map((x) => `${when}: ${x.secret} found in ${x.where} (${x.encoding})`);
  };

  const problems: string[] = [];
  const kills: string[] = [];
  const troubled = new Map<string, number>();
  t.diagnostic(`fleet of ${SIMS} simulated instances and ${HOSTS} harness hosts ready in ${seconds(startedAt)}`);
  try {
    await rounds();
  } catch (err) {
    // A task that never finished (or keyfleet that did not come back) ends the run; what was found so far is kept.
    problems.push(`the run stopped: ${err instanceof Error ? err.message : String(err)}`);
  }

  for (const k of kills) t.diagnostic(k);
  t.diagnostic(`credential scans of the data directory and logs took ${(scanMs / 1000).toFixed(1)} s in all`);
  if (kills.length < MIN_KILLS) problems.unshift(`only ${kills.length} kills landed while a task was running`);
  assert.equal(
    problems.length,
    0,
    `seed ${SEED}: ${problems.length} problem(s) after ${kills.length} kills:\n${problems.join('\n')}`,
  );

  async function rounds(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const roundStartedAt = Date.now();
      if (round >= STEPS.length && kills.length >= MIN_KILLS) break;
      const step = STEPS[round % STEPS.length]!;
      const label = `round ${round + 1} (${step.action} '${step.keyPairName}', sims with ${step.credential === 'password' ? 'the root password' : `the private key of '${step.credential}'`})`;
      const roundsLeft = Math.max(1, STEPS.length - round);
      const wanted = Math.max(1, Math.ceil((MIN_KILLS + 2 - kills.length) / roundsLeft));

      const credential =
        step.credential === 'password'
          ? { kind: 'password', password: f.rootPassword }
          : { kind: 'privateKey', privateKey: privateKeys.get(step.credential)! };
      const submit = async (ids: string[], cred?: object) =>
        (
          await f.api!.call('POST', `/api/v1/regions/${REGION}/bindings`, {
            action: step.action,
            keyPairName: step.keyPairName,
            instanceIds: ids,
            mode: 'live',
            ...(cred ? { credential: cred } : {}),
          })
        ).task.id as string;
      // Registered hosts are changed with their sealed management key: that request carries no credential.
      const taskIds = [await submit(idsOf(machines, 'host')), await submit(idsOf(machines, 'sim'), credential)];

      // Kill -9 at random moments, restart on the same data directory, until the round's kills are spent.
      let killedThisRound = 0;
      while (killedThisRound < wanted) {
        const states = await Promise.all(taskIds.map((id) => progress(f.api!, [id])));
        const running = taskIds.map((_, n) => n).filter((n) => !states[n]!.finished);
        if (running.length === 0) break;
        // The kill aims at one of the running tasks, drawn evenly (the hosts' 20 items would otherwise see few
        // kills next to the sims' 100). One kill in five lands at once (right after the submission, or while a
        // restarted keyfleet resumes); the others once a number of that task's items, uniform over what is
        // left, are done.
        const aim = running[Math.floor(random() * running.length)]!;
        const now = states[aim]!;
        const target = random() < 0.2 ? now.done : now.done + Math.floor(random() * (now.total - now.done));
        const reached = await waitForDone(f.api!, [taskIds[aim]!], target);
        if (reached.finished) continue; // it ended before that moment: aim again
        await sleep(Math.floor(random() * 100)); // somewhere inside the items in flight
        await f.killNine();
        const atKill = doneInStore(f.dataDir, taskIds);
        const moment = `${label}: killed with ${atKill.map((x, n) => `${TASK_NAMES[n]} ${x.done}/${x.total}`).join(', ')} items done`;
        if (atKill.some((x) => x.done < x.total)) {
          kills.push(moment);
          killedThisRound++;
        }
        problems.push(...(await scan(`after kill ${kills.length} (${moment})`)));
        await f.launch();
      }

      const finished = await waitFinished(f.api!, taskIds);
      const checkStartedAt = Date.now();
      const verdict = await checkRound(f, machines, keys, taskIds, troubled);
      for (const id of verdict.troubled) if (!troubled.has(id)) troubled.set(id, round + 1);
      problems.push(...verdict.problems.map((p) => `${label}: ${p}`));
      problems.push(...(await scan(`after ${label}`)));
      const tasks = finished.map(
        (x, n) => `${TASK_NAMES[n]} ${x.status} ${x.succeeded}/${x.total} (${verdict.resumed[n]} item(s) run again)`,
      );
      t.diagnostic(
        `${label}: ${killedThisRound} kill(s); ${tasks.join(', ')}; ${verdict.problems.length} problem(s); ${seconds(roundStartedAt)} (check ${seconds(checkStartedAt)})`,
      );
    }
  }
});

/** Seconds since `since`, for the diagnostics only (nothing is asserted on time). */
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

const idsOf = (machines: Machine[], kind: Machine['kind']) => machines.filter((m) => m.kind === kind).map((m) => m.id);

/** The two tasks of a round, in the order they are submitted. */
const TASK_NAMES = ['hosts', 'sims'];

interface RoundVerdict {
  problems: string[];
  /** Per task: items that ran more than once (interrupted by a kill, or retried). */
  resumed: number[];
  /** Machines with a failed item or a mismatch in this round. */
  troubled: Set<string>;
}

/**
 * After a round: every item succeeded, no credential held or sealed, every machine does what keyfleet reports.
 * `earlier`: machines already in trouble in an earlier round (by round number), marked so in the message.
 */
async function checkRound(
  f: FaultFleet,
  machines: Machine[],
  keys: TestKey[],
  taskIds: string[],
  earlier: Map<string, number>,
): Promise<RoundVerdict> {
  const api = f.api!;
  const problems: string[] = [];
  const resumed: number[] = [];
  const troubled = new Set<string>();
  const kindOf = new Map(machines.map((m) => [m.id, m.what]));
  const since = (id: string) => (earlier.has(id) ? ` (in trouble since round ${earlier.get(id)})` : '');
  for (const id of taskIds) {
    const { task, credentialHeld } = await api.call('GET', `/api/v1/tasks/${id}`);
    if (credentialHeld) problems.push(`task ${id} ended but keyfleet still holds its credential`);
    if (task.status !== 'succeeded') problems.push(`task ${id} ended ${task.status} (${task.failed} failed)`);
    const items = (await api.call('GET', `/api/v1/tasks/${id}/items?limit=1000`)).items as any[];
    resumed.push(items.filter((x) => x.attempts > 1).length);
    const failed = new Map<string, string[]>();
    for (const i of items.filter((x) => x.status !== 'succeeded')) {
      troubled.add(i.instanceId);
      const group = `${kindOf.get(i.instanceId)} item(s) ${i.status} with ${i.errorCode} (${i.errorMessage ?? ''})`;
      const line = `${i.instanceId} after ${i.attempts} attempt(s)${since(i.instanceId)}`;
      failed.set(group, [...(failed.get(group) ?? []), line]);
    }
    for (const [group, list] of failed) problems.push(`${list.length} ${group}:${listed(list)}`);
  }
  const sealed = sealedCredentials(f.dataDir, taskIds);
  if (sealed > 0) problems.push(`${sealed} sealed credential(s) of the ended tasks are still in the store`);

  const observed = await observeAll(machines, keys);
  const mismatches = new Map<string, string[]>();
  for (const m of machines) {
    const i = await api.instance(m.id);
    const reported: Reported = {
      keyPairName: i.keyPairName,
      passwordLogin: i.passwordLogin,
      pendingRestart: i.pendingRestart,
    };
    const o = observed.get(m.id)!;
    const why = disagreement(reported, o, keys);
    if (!why) continue;
    troubled.add(m.id);
    const group = `${m.what}: keyfleet reports key ${reported.keyPairName ?? 'none'}, password ${reported.passwordLogin ? 'on' : 'off'}; machine ${summary(o)}`;
    const proof = i.verification ? `; keyfleet's last proof: ${i.verification}` : '';
    const line = `${m.id} (${m.address}:${m.port}) ${why}${proof}${since(m.id)}`;
    mismatches.set(group, [...(mismatches.get(group) ?? []), line]);
  }
  for (const [group, list] of mismatches)
    problems.push(`${list.length} machine(s) differ from the record — ${group}:${listed(list)}`);
  return { problems, resumed, troubled };
}

/** An indented list for the failure message, cut after 25 lines. */
function listed(lines: string[]): string {
  const shown = lines.slice(0, 25).map((l) => `\n    ${l}`);
  return shown.join('') + (lines.length > 25 ? `\n    … and ${lines.length - 25} more` : '');
}

interface Progress {
  done: number;
  total: number;
  finished: boolean;
}

async function progress(api: Api, taskIds: string[]): Promise<Progress> {
  const tasks = await Promise.all(taskIds.map(async (id) => (await api.call('GET', `/api/v1/tasks/${id}`)).task));
  return {
    done: tasks.reduce((n, x) => n + x.succeeded + x.failed, 0),
    total: tasks.reduce((n, x) => n + x.total, 0),
    finished: tasks.every((x) => x.finishedAt),
  };
}

/** Polls until at least `target` items of the tasks are done (or they have all finished). */
async function waitForDone(api: Api, taskIds: string[], target: number): Promise<Progress> {
  for (const deadline = Date.now() + FINISH_BOUND_MS; ; ) {
    const p = await progress(api, taskIds);
    if (p.done >= target || p.finished) return p;
    assert.ok(Date.now() < deadline, `the tasks made no progress to ${target} items done: ${JSON.stringify(p)}`);
    await sleep(10);
  }
}

async function waitFinished(api: Api, taskIds: string[]): Promise<any[]> {
  for (const deadline = Date.now() + FINISH_BOUND_MS; ; ) {
    const tasks = await Promise.all(taskIds.map(async (id) => (await api.call('GET', `/api/v1/tasks/${id}`)).task));
    if (tasks.every((x) => x.finishedAt)) return tasks;
    assert.ok(
      Date.now() < deadline,
      `tasks did not finish after the restart: ${tasks.map((x) => `${x.id} ${x.succeeded + x.failed}/${x.total}`).join(', ')}`,
    );
    await sleep(50);
  }
}

/** Items done per task, read from the store while no keyfleet runs: what the killed process had committed. */
function doneInStore(dataDir: string, taskIds: string[]): Array<{ done: number; total: number }> {
  const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
  try {
    const count = db.prepare(
      `select count(*) as total, sum(case when status in ('succeeded', 'failed') then 1 else 0 end) as done from task_items where task_id = ?`,
    );
    return taskIds.map((id) => {
      const row = count.get(id) as { total: number; done: number | null };
      return { done: row.done ?? 0, total: row.total };
    });
  } finally {
    db.close();
  }
}

/** Sealed credentials (migration 0009's task_credentials) still kept for these tasks. */
function sealedCredentials(dataDir: string, taskIds: string[]): number {
  const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
  try {
    const marks = taskIds.map(() => '?').join(',');
    const row = db
      .prepare(`select count(*) as n from task_credentials where task_id in (${marks})`)
      .get(...taskIds) as {
      n: number;
    };
    return row.n;
  } finally {
    db.close();
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same kill moments. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
