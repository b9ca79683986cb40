/**
 * Tags on key pairs and instances (issue 20): add, remove, list. A key pair is named by its name and an instance by
 * its id, as Alibaba's TagResources names them; both within one region of the caller's account. The bounds are
 * Alibaba's (docs/tags-and-resource-groups.md): at most 20 tags per resource, 20 tags and 50 resources per call.
 */
import { Buffer } from 'node:buffer';
import type { Caller } from '../caller.js';
import { CoreError } from '../errors.js';
import { MAX_TAGS, type Tag, validateTagFilters, validateTags } from '../keypair/keypair.js';
import type { Repos, Store, TaggableType, TagResource } from '../ports.js';
import { type Region, requireRegion } from '../region.js';

/** Resources per tag call (Alibaba's ResourceId.N runs 1 to 50). */
export const MAX_TAG_RESOURCES = 50;
/** Keys per untag call (Alibaba's TagKey.N runs 1 to 20). */
export const MAX_UNTAG_KEYS = 20;
/** Rows per page of a tag listing (Alibaba's ListTagResources answers at most 50). */
export const TAG_PAGE_SIZE = 50;

export const TAGGABLE_TYPES: readonly TaggableType[] = ['keypair', 'instance'];

export interface TagTarget {
  regionId: string;
  resourceType: TaggableType;
  /** Key pair names or instance ids. */
  resourceIds: string[];
}

export interface TagListQuery {
  regionId: string;
  resourceType: TaggableType;
  resourceIds?: string[];
  tags?: Tag[];
  /** The token a previous page returned. */
  nextToken?: string;
  limit?: number;
  /** A named resource the account does not have is Resource.NotFound (default: it has no tags to list). */
  strict?: boolean;
}

export interface TagListPage {
  /** resourceId: the key pair's name or the instance's id. */
  items: TagResource[];
  nextToken: string | null;
}

export function requireTaggableType(type: unknown): TaggableType {
  if (type === 'keypair' || type === 'instance') return type;
  throw new CoreError('Tag.ResourceTypeInvalid', `The resource type '${String(type).slice(0, 32)}' cannot be tagged.`, {
    resourceType: String(type).slice(0, 32),
  });
}

function requireIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0)
    throw new CoreError('Input.Missing', 'At least one resource is required.', { parameter: 'ResourceId' });
  if (ids.length > MAX_TAG_RESOURCES)
    throw new CoreError(
      'Batch.TooLarge',
      `At most ${MAX_TAG_RESOURCES} resources per call; ${ids.length} were given.`,
      {
        parameter: 'ResourceId',
        limit: MAX_TAG_RESOURCES,
      },
    );
  if (ids.some((id) => typeof id !== 'string' || id === '' || id.length > 255))
    throw new CoreError('Input.Invalid', 'A resource id is empty or too long.', { parameter: 'ResourceId' });
  return [...new Set(ids as string[])];
}

/** The paging token: the last row's internal resource id and key, so a page never repeats or skips a row. */
function encodeToken(row: { internalId: string; key: string }): string {
  return Buffer.from(JSON.stringify([row.internalId, row.key])).toString('base64url');
}

function decodeToken(token: string): { resourceId: string; key: string } {
  try {
    if (token.length > 512) throw new Error('too long');
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { resourceId: v[0], key: v[1] };
  } catch {
    // answered below
  }
  throw new CoreError('Tag.NextTokenInvalid', 'The NextToken is not valid: pass the one the previous page returned.', {
    parameter: 'NextToken',
  });
}

export function createTagService(deps: { store: Store; regions: readonly Region[] }) {
  const { store, regions } = deps;

  /** Internal ids of the named resources (key pair names → ids); raises Resource.NotFound naming the missing ones. */
  async function resolve(caller: Caller, regionId: string, type: TaggableType, names: string[], tx: Repos = store) {
    const internal = new Map<string, string>();
    if (type === 'keypair') {
      for (const name of names) {
        const kp = await tx.keyPairs.get(caller.accountId, regionId, name);
        if (kp) internal.set(name, kp.id);
      }
    } else {
      for (const inst of await tx.instances.getMany(caller.accountId, names))
        if (inst.regionId === regionId) internal.set(inst.id, inst.id);
    }
    const missing = names.filter((n) => !internal.has(n));
    if (missing.length > 0)
      throw new CoreError(
        'Resource.NotFound',
        `No ${type === 'keypair' ? 'key pair' : 'instance'} ${missing
          .slice(0, 5)
          .map((m) => `'${m.slice(0, 64)}'`)
          .join(', ')} in region '${regionId}'.`,
        { resourceType: type, resourceIds: missing.slice(0, 50) },
      );
    return names.map((n) => internal.get(n)!);
  }

  return {
    /** Adds the tags to every resource (a key it has already takes the new value); all or nothing. */
    async tag(caller: Caller, target: TagTarget & { tags: Tag[] }): Promise<void> {
      const region = requireRegion(regions, target.regionId);
      const type = requireTaggableType(target.resourceType);
      const names = requireIds(target.resourceIds);
      if (!Array.isArray(target.tags) || target.tags.length === 0)
        throw new CoreError('Input.Missing', 'At least one tag is required.', { parameter: 'Tag' });
      const tags = validateTags(target.tags);
      await store.transaction(async (tx) => {
        const ids = await resolve(caller, region.id, type, names, tx);
        await tx.tags.lock(caller.accountId, region.id, type, ids);
        await tx.tags.put(caller.accountId, region.id, type, ids, tags);
        const most = await tx.tags.maxCount(caller.accountId, type, ids);
        if (most > MAX_TAGS)
          throw new CoreError(
            'KeyPair.TagInvalid',
            `A resource may have at most ${MAX_TAGS} tags; this would give one ${most}.`,
            { reason: 'count', limit: MAX_TAGS },
          );
      });
    },

    /** Removes the keys from every resource (all: every tag); keys a resource does not have are ignored. */
    async untag(caller: Caller, target: TagTarget & { keys?: string[]; all?: boolean }): Promise<void> {
      const region = requireRegion(regions, target.regionId);
      const type = requireTaggableType(target.resourceType);
      const names = requireIds(target.resourceIds);
      const keys = target.keys ?? [];
      if (keys.length > MAX_UNTAG_KEYS)
        throw new CoreError(
          'KeyPair.TagInvalid',
          `At most ${MAX_UNTAG_KEYS} tag keys per call; ${keys.length} were given.`,
          {
            reason: 'count',
            limit: MAX_UNTAG_KEYS,
          },
        );
      for (const k of keys)
        if (typeof k !== 'string' || k === '' || k.length > 128)
          throw new CoreError('KeyPair.TagInvalid', `The tag key '${String(k).slice(0, 64)}' is not valid.`, {
            reason: 'key',
          });
      // As Alibaba: All applies only when no key is named; neither is a request that removes nothing.
      if (keys.length === 0 && !target.all)
        throw new CoreError('Input.Missing', 'Name the tag keys to remove, or all.', { parameter: 'TagKey' });
      await store.transaction(async (tx) => {
        const ids = await resolve(caller, region.id, type, names, tx);
        await tx.tags.lock(caller.accountId, region.id, type, ids);
        await tx.tags.remove(caller.accountId, type, ids, keys.length > 0 ? [...new Set(keys)] : null);
      });
    },

    /** One page of tags, by resource then key; a next token while more rows follow. */
    async list(caller: Caller, q: TagListQuery): Promise<TagListPage> {
      const region = requireRegion(regions, q.regionId);
      const type = requireTaggableType(q.resourceType);
      const limit = Math.min(Math.max(1, q.limit ?? TAG_PAGE_SIZE), TAG_PAGE_SIZE);
      const tags = validateTagFilters(q.tags);
      let resourceIds: string[] | undefined;
      const byInternal = new Map<string, string>();
      if (q.resourceIds && q.resourceIds.length > 0) {
        const names = requireIds(q.resourceIds);
        resourceIds = [];
        if (q.strict) await resolve(caller, region.id, type, names);
        // Unknown resources have no tags: a listing names none of them rather than failing.
        if (type === 'keypair') {
          for (const name of names) {
            const kp = await store.keyPairs.get(caller.accountId, region.id, name);
            if (kp) {
              resourceIds.push(kp.id);
              byInternal.set(kp.id, kp.name);
            }
          }
        } else resourceIds = names;
      }
      const rows = await store.tags.list({
        accountId: caller.accountId,
        regionId: region.id,
        resourceType: type,
        ...(resourceIds ? { resourceIds } : {}),
        ...(tags ? { tags } : {}),
        ...(q.nextToken ? { after: decodeToken(q.nextToken) } : {}),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      if (type === 'keypair')
        for (const r of page)
          if (!byInternal.has(r.resourceId)) {
            const kp = await store.keyPairs.getById(caller.accountId, r.resourceId);
            byInternal.set(r.resourceId, kp?.name ?? r.resourceId);
          }
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          ...r,
          resourceId: type === 'keypair' ? byInternal.get(r.resourceId)! : r.resourceId,
        })),
        nextToken: rows.length > limit && last ? encodeToken({ internalId: last.resourceId, key: last.key }) : null,
      };
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;
