/**
 * Alibaba's key pair name rules (API.md §2). The core accepts a broader set (the union of what every face
 * allows); this face narrows it to what Alibaba documents, so names created here are valid on the real service.
 *
 *  - CreateKeyPair: 2-128 characters, a letter first, then letters, digits, ':', '_' or '-'.
 *  - ImportKeyPair (newer wording): 2-128 characters, a letter (Chinese characters are letters) first, then
 *    letters, digits, ':', '_', '.' or '-'.
 * Both forbid a leading `http://` or `https://`; '/' is outside both alphabets, so that rule holds by
 * construction, and it is checked anyway so the code reads like the documentation.
 */
import { ecsErrors } from './errors.js';

const CREATE_NAME = /^\p{L}[\p{L}\p{Nd}:_-]{1,127}$/u;
const IMPORT_NAME = /^\p{L}[\p{L}\p{Nd}:_.-]{1,127}$/u;

function check(name: string, pattern: RegExp): string {
  if (!pattern.test(name) || /^https?:\/\//i.test(name)) throw ecsErrors.keyPairNameMalformed();
  return name;
}

export function checkCreateKeyPairName(name: string): string {
  return check(name, CREATE_NAME);
}

export function checkImportKeyPairName(name: string): string {
  return check(name, IMPORT_NAME);
}
