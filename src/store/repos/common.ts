import type { Kysely } from 'kysely';
import type { Database, Dialect, Int } from '../schema.js';

export interface RepoContext {
  db: Kysely<Database>;
  dialect: Dialect;
}

export const toMs = (d: Date): number => d.getTime();
export const fromMs = (v: Int): Date => new Date(Number(v));
export const fromMsOrNull = (v: Int | null): Date | null => (v === null ? null : new Date(Number(v)));
export const bool = (v: number | boolean): boolean => v === 1 || v === true;
export const int = (b: boolean): number => (b ? 1 : 0);

/** Turns a `*` wildcard pattern into a LIKE pattern with '\' escaping (LIKE is case-sensitive on both stores). */
export function likePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*/g, '%');
}

/** Free-text search: escape LIKE metacharacters and match anywhere, case-insensitively (callers lower()). */
export function containsPattern(text: string): string {
  return '%' + text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}
