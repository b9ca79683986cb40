/**
 * The webhook signature: HMAC-SHA256, keyed with the endpoint's secret, over `<unix seconds>.<raw body>`, sent as
 * `Keyfleet-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is signed with the body so a receiver can refuse
 * old replays; each attempt is signed afresh. Receivers verify with the same recipe (README, "Events").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Keyfleet-Signature';
export const EVENT_ID_HEADER = 'Keyfleet-Event-Id';
export const EVENT_TYPE_HEADER = 'Keyfleet-Event-Type';
export const ATTEMPT_HEADER = 'Keyfleet-Delivery-Attempt';

export function signatureOf(secret: string, unixSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${signatureOf(secret, unixSeconds, body)}`;
}

/** Checks a header against the body (what a receiver does); `toleranceS` bounds the age of the timestamp. */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  nowUnixSeconds: number,
  toleranceS = 300,
): boolean {
  const parts = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    parts.set(k, [...(parts.get(k) ?? []), part.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowUnixSeconds - t) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  return (parts.get('v1') ?? []).some((v) => {
    const got = Buffer.from(v, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
