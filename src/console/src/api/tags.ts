/** The native API's tag and resource group calls (docs/api/tags-and-resource-groups.md). */
import { request } from './client';

export type TaggableType = 'keypair' | 'instance';
export interface Tag {
  key: string;
  value: string;
}
export interface ResourceGroupInfo {
  id: string;
  name: string;
  isDefault: boolean;
  createdAt: string;
  keyPairs?: number;
  instances?: number;
}

const enc = encodeURIComponent;

export const tagsApi = {
  tag: (regionId: string, resourceType: TaggableType, resourceIds: string[], tags: Tag[]) =>
    request<void>('POST', `/regions/${enc(regionId)}/tags`, { resourceType, resourceIds, tags }),
  untag: (regionId: string, resourceType: TaggableType, resourceIds: string[], keys: string[]) =>
    request<void>('POST', `/regions/${enc(regionId)}/tags/remove`, { resourceType, resourceIds, keys }),
  createGroup: (name: string) => request<ResourceGroupInfo>('POST', '/resource-groups', { name }),
  group: (id: string) => request<ResourceGroupInfo>('GET', `/resource-groups/${enc(id)}`),
  renameGroup: (id: string, name: string) =>
    request<ResourceGroupInfo>('PATCH', `/resource-groups/${enc(id)}`, { name }),
  deleteGroup: (id: string) => request<void>('DELETE', `/resource-groups/${enc(id)}`),
  move: (groupId: string, regionId: string, resourceType: TaggableType, resourceId: string) =>
    request<unknown>('POST', `/resource-groups/${enc(groupId)}/members`, { regionId, resourceType, resourceId }),
};

/** `key=value` (the key ends at the first '='), or `key` alone (any value when filtering). */
export function parseTagText(text: string): Tag | null {
  const t = text.trim();
  if (!t) return null;
  const at = t.indexOf('=');
  return at < 0 ? { key: t, value: '' } : { key: t.slice(0, at).trim(), value: t.slice(at + 1).trim() };
}
