/** scrypt password hashing for console passwords (node:crypto, async so sign-ins never block the event loop). */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { PasswordHasher } from '../core/ports.js';

const N = 16384;
const r = 8;
const p = 1;
const KEYLEN = 32;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N, r, p }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function createPasswordHasher(): PasswordHasher {
  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt);
      return `$scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
    },
    async verify(password, hash) {
      const m = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
      if (!m || Number(m[1]) !== N || Number(m[2]) !== r || Number(m[3]) !== p) return false;
      const expected = Buffer.from(m[5]!, 'base64');
      const actual = await derive(password, Buffer.from(m[4]!, 'base64'));
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
