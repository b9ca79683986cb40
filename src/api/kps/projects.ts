/**
 * IAM projects and domains as Huawei clients see them. Each region of an account is exactly one project (the SDKs
 * look a project up by region name and expect exactly one answer, SDK-TRAFFIC.md §3), and the account is the IAM
 * domain. Both identifiers are derived, not stored: 32 lower-case hex characters like IAM's, stable across restarts,
 * and meaningless to anyone who does not already know the account.
 */
import { createHash } from 'node:crypto';
import type { Region } from '../../core/region.js';

export interface Project {
  id: string;
  region: Region;
}

/** 32 lower-case hex characters derived from a label: IAM-shaped identifiers that need no table. */
export function stableHexId(label: string): string {
  return createHash('sha256').update(label).digest('hex').slice(0, 32);
}

export function projectIdOf(accountId: string, regionId: string): string {
  return stableHexId(`project:${accountId}:${regionId}`);
}

export function domainIdOf(accountId: string): string {
  return stableHexId(`domain:${accountId}`);
}

export function projectsOf(accountId: string, regions: readonly Region[]): Project[] {
  return regions.map((region) => ({ id: projectIdOf(accountId, region.id), region }));
}

/** The account's project with this id, or null: another account's project id is as unknown as a made-up one. */
export function findProject(accountId: string, regions: readonly Region[], projectId: string): Project | null {
  return projectsOf(accountId, regions).find((p) => p.id === projectId) ?? null;
}
