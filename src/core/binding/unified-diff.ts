/**
 * A unified diff of two small texts (an authorized_keys file, an sshd drop-in), for dry runs: what would be written
 * against what is there. keyfleet's changes touch one block of a file, so the common head and tail are trimmed and
 * the middle is aligned by a longest common subsequence of lines; a middle too long to align in bounded memory is
 * shown as removed then added (still a correct diff, only less minimal). No library: the core takes none (ADR 1),
 * and this is all a dry run needs.
 */

/** Lines of the middle aligned by LCS at most; beyond, the middle is one replacement (bounded time and memory). */
const MAX_ALIGNED = 2000;
const CONTEXT = 3;

type Op = { kind: ' ' | '-' | '+'; text: string };

function splitLines(text: string | null): string[] {
  if (text === null || text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function alignMiddle(a: string[], b: string[]): Op[] {
  if (a.length === 0 || b.length === 0 || a.length * b.length > (MAX_ALIGNED * MAX_ALIGNED) / 4)
    return [...a.map((text) => ({ kind: '-' as const, text })), ...b.map((text) => ({ kind: '+' as const, text }))];
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i * w + j] =
        a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) ops.push({ kind: '-', text: a[i++]! });
    else ops.push({ kind: '+', text: b[j++]! });
  }
  while (i < a.length) ops.push({ kind: '-', text: a[i++]! });
  while (j < b.length) ops.push({ kind: '+', text: b[j++]! });
  return ops;
}

/**
 * The unified diff turning `before` into `after` (null: the file does not exist), with `---`/`+++` headers naming
 * `path`; the empty string when they are the same.
 */
export function unifiedDiff(path: string, before: string | null, after: string | null): string {
  if ((before ?? '') === (after ?? '') && (before === null) === (after === null)) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: Op[] = [
    ...a.slice(0, head).map((text) => ({ kind: ' ' as const, text })),
    ...alignMiddle(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map((text) => ({ kind: ' ' as const, text })),
  ];
  const out = [before === null ? '--- /dev/null' : `--- a${path}`, after === null ? '+++ /dev/null' : `+++ b${path}`];
  // Hunks: runs of changes with CONTEXT lines around them, merged when their contexts touch.
  const changed = ops.map((op, n) => (op.kind === ' ' ? -1 : n)).filter((n) => n >= 0);
  if (changed.length === 0) return `${out.join('\n')}\n`; // only a missing final newline or existence differs
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * CONTEXT) end++;
    const from = Math.max(0, changed[start]! - CONTEXT);
    const to = Math.min(ops.length - 1, changed[end]! + CONTEXT);
    let aLine = 1;
    let bLine = 1;
    for (let n = 0; n < from; n++) {
      if (ops[n]!.kind !== '+') aLine++;
      if (ops[n]!.kind !== '-') bLine++;
    }
    const hunk = ops.slice(from, to + 1);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${aCount ? aLine : aLine - 1},${aCount} +${bCount ? bLine : bLine - 1},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.text}`);
    start = end + 1;
  }
  return `${out.join('\n')}\n`;
}
