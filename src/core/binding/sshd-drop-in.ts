/**
 * The sshd_config drop-in through which keyfleet turns SSH password login off (key pair bound) and back on (no key
 * pair). Pure: the text is rendered here and written by whoever applies the plan (simulated boot or live SSH).
 *
 * Why the file name: for most keywords, PasswordAuthentication included, sshd keeps the FIRST value it reads.
 * Debian, Ubuntu, RHEL 9 and their kin put `Include /etc/ssh/sshd_config.d/*.conf` at the top of sshd_config, and
 * the glob is read in lexical order. cloud-init writes `50-cloud-init.conf` (and distros `50-redhat.conf`,
 * `60-cloudimg-settings.conf`), so a `10-` prefix reads before them and before the main file's own settings.
 * A `Match` block elsewhere can still override for the connections it matches; keyfleet's proof-by-login catches it.
 */

export const SSHD_DROP_IN_PATH = '/etc/ssh/sshd_config.d/10-keyfleet.conf';

const HEADER = [
  '# Managed by keyfleet: SSH password login follows the key pair binding of this machine.',
  '# A bound key pair turns password login off; unbinding turns it back on. Local edits are overwritten.',
];

/** The product rule: a bound key pair turns password login off; no key pair turns it back on. */
export function desiredLoginMethods(bound: boolean): { passwordAuthentication: boolean } {
  return { passwordAuthentication: !bound };
}

/**
 * With password login off, keyboard-interactive is turned off too: with UsePAM it would otherwise ask for the same
 * password under another method name. With password login on, keyboard-interactive is left to the host's own
 * setting, since turning it on would override a choice keyfleet never made.
 */
export function renderSshdDropIn(opts: { passwordAuthentication: boolean }): string {
  const directives = opts.passwordAuthentication
    ? ['PasswordAuthentication yes']
    : ['PasswordAuthentication no', 'KbdInteractiveAuthentication no'];
  return [...HEADER, ...directives].join('\n') + '\n';
}

/**
 * The PasswordAuthentication value a drop-in's text sets, as sshd reads it (first value outside a Match block
 * wins; keyword case-insensitive; `Keyword value` or `Keyword=value`), or null when it sets none. For drift reports
 * and for a simulated sshd that honours the same file.
 */
export function passwordAuthenticationIn(content: string): boolean | null {
  for (const rawLine of content.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(\S+)/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toLowerCase();
    if (keyword === 'match') return null;
    if (keyword === 'passwordauthentication') return match[2]!.toLowerCase() === 'yes';
  }
  return null;
}
