/**
 * How keyfleet writes key fingerprints: exactly as `ssh-keygen -l -E sha256|md5` prints them. Hashing is left to the
 * caller (node:crypto in the core, WebCrypto in the browser); this module only formats the digest.
 */
import { encodeBase64 } from './base64.js';

/** 'SHA256:' and the unpadded base64 of a SHA-256 digest (43 characters). */
export function formatSha256Fingerprint(digest: Uint8Array): string {
  return `SHA256:${encodeBase64(digest).replace(/=+$/, '')}`;
}

/** 'MD5:' and the colon-separated hex bytes of an MD5 digest. */
export function formatMd5Fingerprint(digest: Uint8Array): string {
  return `MD5:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(':')}`;
}
