/**
 * What the KPS and Nova calls return for a key pair: the documented fields (API.md §3.1–§3.3, §9), whitelisted from
 * the core record. A sealed private key is never part of a view; `is_key_protection` says whether one is kept.
 */
import { createHash } from 'node:crypto';
import type { KeyPair } from '../../core/keypair/keypair.js';

/** Huawei prints the MD5 fingerprint as bare colon-hex (API.md §3.1 example), without ssh-keygen's `MD5:` prefix. */
export function huaweiFingerprint(kp: KeyPair): string {
  return kp.fingerprintMd5.replace(/^MD5:/, '');
}

/**
 * KPS and Nova give key pairs an integer `id` (Long). Derived from keyfleet's id: stable, and within
 * Number.MAX_SAFE_INTEGER so JSON clients read it exactly.
 */
export function numericId(kp: KeyPair): number {
  return Number.parseInt(createHash('sha256').update(kp.id).digest('hex').slice(0, 12), 16);
}

/**
 * keyfleet key pairs belong to the account, shared by its users: Huawei's `domain` scope. The record keeps no
 * owning user, so `user_id` is the user asking.
 */
const SCOPE = 'domain';

/** CreateKeypair's answer (API.md §3.1); `private_key` only when keyfleet generated the key. */
export function createdKeyPairView(kp: KeyPair, userId: string, privateKey?: string) {
  return {
    name: kp.name,
    type: 'ssh',
    public_key: kp.publicKey,
    ...(privateKey !== undefined ? { private_key: privateKey } : {}),
    fingerprint: huaweiFingerprint(kp),
    user_id: userId,
  };
}

/** One entry of ListKeypairs (API.md §3.2); `frozen_state` is emitted as the integer 0 ("normal"). */
export function listedKeyPairView(kp: KeyPair) {
  return {
    keypair: {
      name: kp.name,
      type: 'ssh',
      scope: SCOPE,
      public_key: kp.publicKey,
      fingerprint: huaweiFingerprint(kp),
      is_key_protection: kp.escrowedPrivateKey !== null,
      frozen_state: 0,
    },
  };
}

/**
 * ListKeypairDetail (API.md §3.3). Times are epoch milliseconds as in the documented example; keyfleet keeps no
 * update time, and `algorithm` is the OpenSSH key type (Huawei documents the field, not its values).
 */
export function keyPairDetailView(kp: KeyPair, userId: string) {
  return {
    name: kp.name,
    id: numericId(kp),
    type: 'ssh',
    scope: SCOPE,
    public_key: kp.publicKey,
    fingerprint: huaweiFingerprint(kp),
    is_key_protection: kp.escrowedPrivateKey !== null,
    deleted: false,
    description: kp.description,
    user_id: userId,
    create_time: kp.createdAt.getTime(),
    delete_time: null,
    update_time: null,
    frozen_state: 0,
    key_id: '',
    algorithm: kp.algorithm,
  };
}

/** NovaCreateKeypair's answer (API.md §9, capture 01). */
export function novaCreatedView(kp: KeyPair, userId: string, privateKey?: string) {
  return { keypair: createdKeyPairView(kp, userId, privateKey) };
}

/** One entry of NovaListKeypairs (capture 03). */
export function novaListedView(kp: KeyPair) {
  return { keypair: { fingerprint: huaweiFingerprint(kp), name: kp.name, public_key: kp.publicKey, type: 'ssh' } };
}

/** NovaShowKeypair (capture 04): Nova's `created_at` has microseconds and no zone. */
export function novaDetailView(kp: KeyPair, userId: string) {
  return {
    keypair: {
      public_key: kp.publicKey,
      name: kp.name,
      fingerprint: huaweiFingerprint(kp),
      created_at: kp.createdAt.toISOString().replace('Z', '000'),
      deleted: false,
      deleted_at: null,
      id: numericId(kp),
      updated_at: null,
      user_id: userId,
      type: 'ssh',
    },
  };
}
