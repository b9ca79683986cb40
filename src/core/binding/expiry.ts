/**
 * When a binding ends (issue 19): the bounds of an expiry and how a request gives it. An expiry is an instant in
 * whole seconds (OpenSSH's `expiry-time` has no finer unit; authorized-keys.ts writes it), strictly in the future
 * and at most MAX_EXPIRY_MS ahead, given either as `expiresAt` (an ISO 8601 time with a zone) or as `expiresIn`
 * (a duration such as `8h`, `90m`, `20s`, `7d`, or a number of seconds).
 */
import { CoreError } from '../errors.js';

/** The latest expiry a binding may have: one year (366 days) from now. */
export const MAX_EXPIRY_MS = 366 * 24 * 3600 * 1000;
/** The earliest: a few seconds ahead, so the line written is not refused before the change is proven. */
export const MIN_EXPIRY_MS = 5_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

export interface ExpiryInput {
  expiresAt?: unknown;
  expiresIn?: unknown;
}

/** The expiry a request asks for (null: none), rounded up to a whole second and checked against its bounds. */
export function requestedExpiry(input: ExpiryInput, now: Date): Date | null {
  const { expiresAt, expiresIn } = input;
  if (expiresAt === undefined && expiresIn === undefined) return null;
  if (expiresAt !== undefined && expiresIn !== undefined)
    throw new CoreError('Input.Invalid', 'Give expiresAt or expiresIn, not both.', { parameter: 'expiresAt' });
  const at = expiresAt !== undefined ? parseExpiresAt(expiresAt) : new Date(now.getTime() + parseDuration(expiresIn));
  const rounded = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  const ahead = rounded.getTime() - now.getTime();
  const parameter = expiresAt !== undefined ? 'expiresAt' : 'expiresIn';
  if (ahead < MIN_EXPIRY_MS)
    throw new CoreError(
      'Binding.ExpiryInvalid',
      `The expiry ${rounded.toISOString()} is not at least ${MIN_EXPIRY_MS / 1000} seconds in the future.`,
      { parameter },
    );
  if (ahead > MAX_EXPIRY_MS)
    throw new CoreError(
      'Binding.ExpiryInvalid',
      `The expiry ${rounded.toISOString()} is more than ${MAX_EXPIRY_MS / 86_400_000} days ahead; bind again later to extend it.`,
      { parameter, limitSeconds: MAX_EXPIRY_MS / 1000 },
    );
  return rounded;
}

function parseExpiresAt(raw: unknown): Date {
  const at = typeof raw === 'string' && raw.length <= 40 && ISO_WITH_ZONE.test(raw) ? new Date(raw) : null;
  if (!at || Number.isNaN(at.getTime()))
    throw new CoreError(
      'Input.Invalid',
      'expiresAt must be an ISO 8601 time with a zone, such as 2026-12-24T18:00:00Z.',
      { parameter: 'expiresAt' },
    );
  return at;
}

/** `8h`, `90m`, `20s`, `7d`, `2w`, or a whole number of seconds. */
export function parseDuration(raw: unknown): number {
  // The bounds are checked on the instant it gives (requestedExpiry), so a too long duration says so.
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0 && raw <= 1e9) return raw * 1000;
  const m = typeof raw === 'string' ? /^(\d{1,9})([smhdw]?)$/.exec(raw.trim()) : null;
  if (!m)
    throw new CoreError('Input.Invalid', "expiresIn must be a duration such as '8h', '90m', '20s' or '7d'.", {
      parameter: 'expiresIn',
    });
  return Number(m[1]) * UNIT_MS[m[2] || 's']!;
}
