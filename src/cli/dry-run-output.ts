/**
 * A live dry run's answer for people: per machine, the risks, then the unified diffs of authorized_keys and of the
 * sshd drop-in (what would be written against what is there). Coloured only on a terminal (and not with NO_COLOR),
 * so a file or a pipe gets a plain diff that `patch` or a review tool reads as it is.
 */
interface DryRunView {
  authorizedKeysPath: string;
  authorizedKeysDiff: string;
  dropInPath: string | null;
  dropInDiff: string;
  risks: { code: string; message: string }[];
}

const ESC = '\u001b[';
const paint = (code: string, text: string) => `${ESC}${code}m${text}${ESC}0m`;

function colourLine(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return paint('1', line);
  if (line.startsWith('@@')) return paint('36', line);
  if (line.startsWith('+')) return paint('32', line);
  if (line.startsWith('-')) return paint('31', line);
  return line;
}

export function renderDryRuns(items: Array<{ instanceId: string; dryRun?: DryRunView }>, colour: boolean): string {
  const out: string[] = [];
  for (const item of items) {
    const d = item.dryRun;
    if (!d) continue;
    out.push(colour ? paint('1', `== ${item.instanceId}`) : `== ${item.instanceId}`);
    for (const r of d.risks) out.push(`${colour ? paint('33', `! ${r.code}`) : `! ${r.code}`}: ${r.message}`);
    if (!d.authorizedKeysDiff && !d.dropInDiff) out.push('(no change)');
    for (const diff of [d.authorizedKeysDiff, d.dropInDiff]) {
      if (!diff) continue;
      for (const line of diff.replace(/\n$/, '').split('\n')) out.push(colour ? colourLine(line) : line);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Colour when stdout is a terminal and NO_COLOR is not set (https://no-color.org). */
export function wantsColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}
