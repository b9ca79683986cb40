/**
 * Benchmark: tenant A's service while tenant B attacks (issue 18). The scenario of test/hostile/ (one keyfleet as a
 * child process; A's signed DescribeKeyPairs on the ECS face and A's SSH logins to its own simulated instance,
 * each back to back, one at a time; B's attacks from its own instances and through the API), timed: A's figures
 * in a quiet phase, then while each attack runs (repeated for at least BENCH_PHASE_MS, one-shot attacks once), the
 * ratio to the quiet phase (issue 18 wants A within 2×), and keyfleet's peak resident memory (VmRSS from /proc).
 *
 *   node --import tsx bench/hostile-tenant.ts
 *   BENCH_PHASE_MS=5000 node --import tsx bench/hostile-tenant.ts
 *
 * Bounded: each phase runs its attack at most 20 times and stops after BENCH_PHASE_MS; loopback only.
 */
import {
  ATTACKS,
  describeAsA,
  type ProbeRecord,
  rssOf,
  sshLoginAsA,
  startProbes,
  startScenario,
  stopScenario,
} from '../test/hostile/support/scenario.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 3000);
const MAX_ROUNDS = 20;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1));

async function main(): Promise<void> {
  const s = await startScenario();
  try {
    const pid = s.child.pid!;
    for (let i = 0; i < 20; i++) await describeAsA(s); // warm-up
    for (let i = 0; i < 3; i++) await sshLoginAsA(s);
    const baselineRss = rssOf(pid);
    let peak = baselineRss;
    let phasePeak = baselineRss;
    const sampler = setInterval(() => {
      const now = rssOf(pid);
      peak = Math.max(peak, now);
      phasePeak = Math.max(phasePeak, now);
    }, 50);

    const rows: Array<{ phase: string; rounds: number; outcome: string; record: ProbeRecord; peak: number }> = [];
    const phase = async (name: string, attack: (() => Promise<void>) | null, once: boolean) => {
      phasePeak = rssOf(pid);
      const probes = startProbes(s);
      const started = performance.now();
      let rounds = 0;
      let outcome = 'quiet';
      if (attack) {
        outcome = 'refused / bounded';
        try {
          do {
            await attack();
            rounds++;
          } while (!once && rounds < MAX_ROUNDS && performance.now() - started < PHASE_MS);
        } catch (err) {
          outcome = `UNEXPECTED: ${(err as Error).message.slice(0, 80)}`;
        }
      }
      while (performance.now() - started < PHASE_MS / (attack ? 3 : 1)) await new Promise((r) => setTimeout(r, 50));
      const record = await probes.stop();
      rows.push({ phase: name, rounds, outcome, record, peak: phasePeak });
    };

    await phase('quiet baseline', null, false);
    const ordered = [...ATTACKS.filter((a) => !a.once), ...ATTACKS.filter((a) => a.once)];
    for (const attack of ordered) await phase(attack.name, () => attack.run(s), attack.once === true);
    await phase('quiet again', null, false);
    clearInterval(sampler);

    const quiet = rows[0]!.record;
    const q50 = percentile(quiet.describeMs, 50);
    const q99 = percentile(quiet.describeMs, 99);
    const l50 = percentile(quiet.loginMs, 50);
    console.log(
      `keyfleet RSS before the attacks: ${mib(baselineRss)}; phases of ${PHASE_MS} ms (one-shot attacks: once)`,
    );
    console.log('');
    console.log(
      '| phase (tenant B) | rounds | B got | A DescribeKeyPairs n | p50 ms | p99 ms | p99 × quiet | A SSH logins n | login p50 ms | login p99 ms | login p50 × quiet | A failures | keyfleet RSS peak |',
    );
    console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const d50 = percentile(r.record.describeMs, 50);
      const d99 = percentile(r.record.describeMs, 99);
      const g50 = percentile(r.record.loginMs, 50);
      const g99 = percentile(r.record.loginMs, 99);
      console.log(
        `| ${r.phase} | ${r.rounds} | ${r.outcome} | ${r.record.describeMs.length} | ${ms(d50)} | ${ms(d99)} | ${(d99 / q99).toFixed(2)} | ${r.record.loginMs.length} | ${ms(g50)} | ${ms(g99)} | ${(g50 / l50).toFixed(2)} | ${r.record.failures.length} | ${mib(r.peak)} |`,
      );
    }
    console.log('');
    console.log(`keyfleet RSS peak over the run: ${mib(peak)} (${mib(peak - baselineRss)} over the baseline)`);
    console.log(`quiet: DescribeKeyPairs p50 ${ms(q50)} ms, p99 ${ms(q99)} ms; SSH login p50 ${ms(l50)} ms`);
    const failures = rows.flatMap((r) => r.record.failures.map((f) => `${r.phase}: ${f}`));
    if (failures.length > 0) console.log(`A's failures:\n${failures.slice(0, 10).join('\n')}`);
  } finally {
    await stopScenario(s);
  }
}

await main();
