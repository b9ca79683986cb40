/** Output for people (tables) and for scripts (--json, one JSON document on stdout). */
import Table from 'cli-table3';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printTable(
  head: string[],
  rows: Array<Array<string | number | boolean | null | undefined>>,
  footer?: string,
): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  process.stdout.write(table.toString() + '\n');
  if (footer) process.stdout.write(footer + '\n');
}

export function printFields(fields: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  for (const [k, v] of Object.entries(fields))
    process.stdout.write(`${k.padEnd(width)}  ${v === null || v === undefined ? '-' : String(v)}\n`);
}

/** Bare ids, one per line: what `> fleet.txt` or `xargs` wants. */
export function printIds(ids: readonly string[]): void {
  if (ids.length > 0) process.stdout.write(ids.join('\n') + '\n');
}
