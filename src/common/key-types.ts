/**
 * The SSH key types keyfleet generates, and the one it generates when none is asked for in its own faces (the CLI,
 * the console and the native API): Ed25519 — short keys, fast signatures, no parameter to get wrong, accepted by
 * every OpenSSH since 6.5 (2014). The cloud faces keep their cloud's contract: ECS CreateKeyPair and KPS
 * CreateKeypair make RSA keys, as Alibaba and Huawei do, since SDK callers expect what those clouds return.
 */
export const KEY_TYPES = ['ed25519', 'rsa'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const DEFAULT_KEY_TYPE: KeyType = 'ed25519';
