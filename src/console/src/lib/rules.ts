/**
 * The console's wording of keyfleet's input rules, checked in the browser before a request is sent. The rules
 * themselves live in src/common/names.ts, shared with the core, which checks everything again and has the last word.
 */
import {
  HOST_ADDRESS,
  HOST_COMMAND_MAX,
  HOST_KEY_FINGERPRINT,
  INSTANCE_PASSWORD_MAX,
  INSTANCE_PASSWORD_MIN,
  INSTANCE_PASSWORD_SPECIALS,
  KEY_PAIR_NAME,
  KEY_PAIR_NAME_MAX,
  LINUX_USER,
  USER_NAME,
  USER_NAME_RULE,
  CONSOLE_PASSWORD_MAX,
  instancePasswordClasses,
  isInstanceName,
  isPort,
  isSafeAbsolutePath,
  startsWithUrlScheme,
  usesOnlyInstancePasswordCharacters,
} from '../../../common/names.js';

/** The ECS instance password rule. */
export function passwordProblem(pw: string): string | null {
  if (pw.length < INSTANCE_PASSWORD_MIN || pw.length > INSTANCE_PASSWORD_MAX)
    return `Use ${INSTANCE_PASSWORD_MIN} to ${INSTANCE_PASSWORD_MAX} characters.`;
  if (!usesOnlyInstancePasswordCharacters(pw)) return `Use only letters, digits and ${INSTANCE_PASSWORD_SPECIALS}`;
  if (instancePasswordClasses(pw) < 3)
    return 'Use at least three of: upper-case letters, lower-case letters, digits, special characters.';
  return null;
}

/** A console password may be left empty where the caller allows it; otherwise its length is checked here. */
export function consolePasswordProblem(pw: string): string | null {
  return pw.length > CONSOLE_PASSWORD_MAX ? `At most ${CONSOLE_PASSWORD_MAX} characters.` : null;
}

export function keyPairNameProblem(name: string): string | null {
  if (name.length === 0) return 'Enter a name.';
  if (name.length > KEY_PAIR_NAME_MAX) return `Use at most ${KEY_PAIR_NAME_MAX} characters.`;
  if (!KEY_PAIR_NAME.test(name)) return "Use letters, digits, ':', '_', '.' or '-', starting with a letter or digit.";
  if (startsWithUrlScheme(name)) return "A name cannot start with 'http:' or 'https:'.";
  return null;
}

/** User, group and account names; `missing` is the message for an empty name. */
export function userNameProblem(name: string, missing: string): string | null {
  if (!name) return missing;
  return USER_NAME.test(name) ? null : `${USER_NAME_RULE}, starting with a letter or digit.`;
}

export function instanceNameProblem(v: string): string | null {
  return isInstanceName(v) ? null : 'Use 2-128 characters starting with a letter or digit.';
}

export function addressProblem(v: string): string | null {
  return HOST_ADDRESS.test(v) ? null : 'Enter a host name or IP address (letters, digits, . : _ -).';
}

export function portProblem(v: string): string | null {
  return /^\d+$/.test(v.trim()) && isPort(Number(v)) ? null : 'Enter a port from 1 to 65535.';
}

export function linuxUserProblem(v: string, optional = false): string | null {
  if (optional && v === '') return null;
  return LINUX_USER.test(v) ? null : 'Enter a Linux user name (letters, digits, _ . -; at most 32).';
}

export function pathProblem(v: string): string | null {
  if (v === '') return null;
  return isSafeAbsolutePath(v) ? null : "Enter an absolute path without spaces, quotes or '..'.";
}

export function commandProblem(v: string): string | null {
  return v.length <= HOST_COMMAND_MAX ? null : `At most ${HOST_COMMAND_MAX} characters.`;
}

export function hostKeyProblem(v: string): string | null {
  if (v === '') return null;
  return HOST_KEY_FINGERPRINT.test(v)
    ? null
    : "Give it as ssh-keygen -l prints it: 'SHA256:' and 43 base64 characters.";
}
