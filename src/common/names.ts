/**
 * The name and number rules keyfleet enforces in the core and checks again in the console before sending: one
 * definition, so the two cannot drift apart. Pure: patterns and predicates only; each side words its own messages.
 */

/** Console user and group names: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const GROUP_NAME = USER_NAME;
export const ACCOUNT_NAME = USER_NAME;
/** The rule of USER_NAME, GROUP_NAME and ACCOUNT_NAME in words, for messages. */
export const USER_NAME_RULE = "1-64 letters, digits, '.', '_', '@' or '-'";
/** Policy names: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const POLICY_NAME_RULE = "1-128 letters, digits, '.', '_' or '-'";

/** Console passwords: 8-128 characters with at least three of upper, lower, digit, symbol. */
export const CONSOLE_PASSWORD_MIN = 8;
export const CONSOLE_PASSWORD_MAX = 128;

/** Key pair names: letters (any script), digits, ':', '_', '.', '-'; starting with a letter or digit; no URL. */
export const KEY_PAIR_NAME_MAX = 255;
export const KEY_PAIR_NAME = /^[\p{L}\p{N}][\p{L}\p{N}:_.-]*$/u;
export function isKeyPairName(name: string): boolean {
  return name.length >= 1 && name.length <= KEY_PAIR_NAME_MAX && KEY_PAIR_NAME.test(name) && !startsWithUrlScheme(name);
}

/** Instance (and host) names: 2-128 characters starting with a letter or digit; no URL. */
export const INSTANCE_NAME_MIN = 2;
export const INSTANCE_NAME_MAX = 128;
export function isInstanceName(name: string): boolean {
  return (
    name.length >= INSTANCE_NAME_MIN &&
    name.length <= INSTANCE_NAME_MAX &&
    /^[\p{L}\p{N}]/u.test(name) &&
    !startsWithUrlScheme(name)
  );
}

/** Names may not look like links (the ECS rule for names and descriptions). */
export function startsWithUrlScheme(text: string): boolean {
  return /^https?:/i.test(text);
}

/** A Linux login name as keyfleet accepts it for hosts: up to 32 characters, no leading digit or '-'. */
export const LINUX_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
/** A host address: a DNS name, IPv4 or IPv6 literal (checked for characters and length only). */
export const HOST_ADDRESS = /^[A-Za-z0-9.:_-]{1,253}$/;

/** A host key fingerprint as an operator pins it, as `ssh-keygen -l` prints it: 'SHA256:' and 43 base64 characters. */
export const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Paths keyfleet writes on a host (home directory, sshd drop-in): absolute, no blanks, quotes or '..'. */
export const HOST_PATH_MAX = 1024;
export function isSafeAbsolutePath(path: string): boolean {
  return (
    path.startsWith('/') && path.length <= HOST_PATH_MAX && !/[\s'"\\]/.test(path) && !path.split('/').includes('..')
  );
}
/** Commands keyfleet runs on a host (sshd reload and validate): one line of at most this many characters. */
export const HOST_COMMAND_MAX = 1024;

/** TCP ports. */
export const PORT_MIN = 1;
export const PORT_MAX = 65535;
export function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= PORT_MIN && port <= PORT_MAX;
}

/** ECS instance passwords: 8-30 characters from letters, digits and these specials, three classes at least. */
export const INSTANCE_PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/";
export const INSTANCE_PASSWORD_MIN = 8;
export const INSTANCE_PASSWORD_MAX = 30;
/** How many of upper-case, lower-case, digits and specials the password uses (the rule wants three). */
export function instancePasswordClasses(password: string): number {
  return (
    [/[A-Z]/, /[a-z]/, /[0-9]/].filter((re) => re.test(password)).length +
    ([...password].some((c) => INSTANCE_PASSWORD_SPECIALS.includes(c)) ? 1 : 0)
  );
}
export function usesOnlyInstancePasswordCharacters(password: string): boolean {
  return [...password].every((c) => /[A-Za-z0-9]/.test(c) || INSTANCE_PASSWORD_SPECIALS.includes(c));
}
