/** A CPU profile of this process (BENCH_PROFILE=1 in the benchmarks): start, then stop into a .cpuprofile file. */
import fs from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    await fs.writeFile(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`  profile: ${file}`);
  };
}
