/**
 * Standard base64 without node:buffer, so the same code runs in the core and the browser (atob and btoa are globals
 * in both). Only the canonical form decodes: a text that Buffer or atob would accept loosely (non-zero padding
 * bits, missing padding, whitespace) is refused, so one key has exactly one text.
 */

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The bytes of a canonical base64 text, or null if the text is not one. */
export function decodeCanonicalBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return encodeBase64(bytes) === text ? bytes : null;
}
