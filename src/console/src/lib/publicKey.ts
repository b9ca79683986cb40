/**
 * Checks a pasted or uploaded OpenSSH public key in the browser before it is sent, by the same rules the server
 * applies (src/common/public-key.ts). The server also checks, with OpenSSL, that RSA numbers and EC points are valid
 * key material, and has the last word. Before the shared rules, two mistakes get a hint of their own: a private key
 * pasted by accident, and a key in PEM or RFC 4716 format.
 */
import { formatSha256Fingerprint } from '../../../common/fingerprint.js';
import { describeKeyType, parseOpenSshPublicKey, type KeyAlgorithm } from '../../../common/public-key.js';

export interface CheckedPublicKey {
  ok: true;
  type: KeyAlgorithm;
  bits: number;
  label: string;
  comment: string;
  /** The normalised line to send (trimmed). */
  line: string;
  blob: Uint8Array;
}

export interface PublicKeyProblem {
  ok: false;
  problem: string;
}

export function checkPublicKey(text: string): CheckedPublicKey | PublicKeyProblem {
  const line = text.trim();
  if (line === '') return { ok: false, problem: 'Paste or upload a public key.' };
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) {
    return {
      ok: false,
      problem: 'This is a PRIVATE key. Never paste it here: import the public key (the .pub file) instead.',
    };
  }
  if (/^-----BEGIN|^---- BEGIN SSH2 PUBLIC KEY/.test(line)) {
    return {
      ok: false,
      problem:
        'Give the key in OpenSSH format (one line starting with ssh-ed25519, ssh-rsa or ecdsa-sha2-…), as in a .pub file.',
    };
  }
  const parsed = parseOpenSshPublicKey(text);
  if (!parsed.ok) return { ok: false, problem: parsed.problem.message };
  const { algorithm, bits, comment, blob } = parsed.key;
  return { ok: true, type: algorithm, bits, label: describeKeyType(parsed.key), comment, line, blob };
}

/** 'SHA256:…' as ssh-keygen prints it, when the browser offers WebCrypto (secure contexts only). */
export async function sha256Fingerprint(blob: Uint8Array): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  return formatSha256Fingerprint(
    new Uint8Array(await crypto.subtle.digest('SHA-256', blob as Uint8Array<ArrayBuffer>)),
  );
}
