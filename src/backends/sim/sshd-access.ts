/**
 * sshd's allowed_user check on AllowUsers, DenyUsers, AllowGroups and DenyGroups (auth.c): an account it refuses is
 * treated as one that does not exist, so no method can succeed and nothing in the answers tells the two apart.
 * - a user pattern is `USER` or `USER@HOST`, wildcards `*` and `?`; HOST is matched like `from="…"` against the
 *   client's address (UseDNS no);
 * - a group pattern is matched against the names of the user's primary and supplementary groups;
 * - DenyUsers, AllowUsers, DenyGroups, AllowGroups are checked in that order; an empty Allow list allows all.
 */
import type { EffectiveSshdConfig } from './sshd-config.js';
import { fromAllows, wildcardMatch } from './sshd-from-match.js';
import { readGroups, type GuestUser } from './sshd-passwd.js';

export async function accountAllowed(
  rootDir: string,
  user: GuestUser,
  config: EffectiveSshdConfig,
  clientIp: string,
): Promise<boolean> {
  const userMatches = (pattern: string) => {
    const at = pattern.indexOf('@');
    if (at === -1) return wildcardMatch(user.name, pattern);
    return wildcardMatch(user.name, pattern.slice(0, at)) && fromAllows(pattern.slice(at + 1), clientIp);
  };
  if (config.denyUsers.some(userMatches)) return false;
  if (config.allowUsers.length > 0 && !config.allowUsers.some(userMatches)) return false;
  if (config.denyGroups.length === 0 && config.allowGroups.length === 0) return true;

  const groups = (await readGroups(rootDir))
    .filter((g) => g.gid === user.gid || g.members.includes(user.name))
    .map((g) => g.name);
  const groupMatches = (pattern: string) => groups.some((name) => wildcardMatch(name, pattern));
  if (config.denyGroups.some(groupMatches)) return false;
  if (config.allowGroups.length > 0 && !config.allowGroups.some(groupMatches)) return false;
  return true;
}
