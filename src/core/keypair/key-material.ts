/**
 * The KeyMaterial port: how the core gets private keys made and read. Types only; the adapter lives in
 * src/crypto/ssh-key-material.ts, so the core never touches an SSH library directly.
 */

export type GeneratedKeyType = 'rsa' | 'ed25519';

/** KeyMaterial makes and reads private keys; the core never touches an SSH library directly. */
export interface KeyMaterial {
  /**
   * Generates a key pair. `privateKey` is an unencrypted OpenSSH private key ('-----BEGIN OPENSSH PRIVATE KEY-----')
   * usable with `ssh -i`; `publicKey` is the OpenSSH line 'type base64 comment'. RSA keys are 2048 bits.
   */
  generate(type: GeneratedKeyType, comment: string): Promise<{ privateKey: string; publicKey: string }>;

  /**
   * The OpenSSH public line 'type base64' of an unencrypted private key in OpenSSH, PEM (PKCS#1 / SEC1) or PKCS#8
   * format. Throws CoreError 'PrivateKey.Malformed', whose message never quotes the key.
   */
  publicKeyOf(privateKey: string): string;
}
