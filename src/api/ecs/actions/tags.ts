/**
 * TagResources, UntagResources, ListTagResources and JoinResourceGroup for key pairs and instances
 * (docs/api/alibaba-ecs.md, "Tags and resource groups"). A key pair's ResourceId is its name, an instance's its id,
 * as Alibaba names them. Other resource types are InvalidResourceType.NotFound: keyfleet has no disks or images
 * to tag.
 */
import { requireTaggableType } from '../../../core/tag/tag-service.js';
import { EcsError } from '../errors.js';
import type { ActionHandler } from './context.js';

/** ResourceId.N runs from 1 to 50, TagKey.N from 1 to 20 (Alibaba's TagResources/UntagResources). */
const MAX_RESOURCE_IDS = 50;
const MAX_TAG_KEYS = 20;

export const tagActions = {
  TagResources: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const resourceType = requireTaggableType(params.required('ResourceType'));
    const resourceIds = params.repeatList('ResourceId', MAX_RESOURCE_IDS);
    if (resourceIds.length === 0) params.required('ResourceId.1');
    const tags = params.tagsToSet();
    if (tags.length === 0) params.required('Tag.1.Key');
    await core.tags.tag(caller, { regionId, resourceType, resourceIds, tags });
    return {};
  },

  /** Removes the named keys, or every tag with All=true (All counts only when no TagKey.N is given). */
  UntagResources: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const resourceType = requireTaggableType(params.required('ResourceType'));
    const resourceIds = params.repeatList('ResourceId', MAX_RESOURCE_IDS);
    if (resourceIds.length === 0) params.required('ResourceId.1');
    const keys = params.repeatList('TagKey', MAX_TAG_KEYS);
    const all = params.boolean('All', false);
    if (keys.length === 0 && !all) params.required('TagKey.1');
    await core.tags.untag(caller, { regionId, resourceType, resourceIds, keys, all });
    return {};
  },

  /** Pages of at most 50 rows, resource by resource; NextToken continues, an empty one means the last page. */
  ListTagResources: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const resourceType = requireTaggableType(params.required('ResourceType'));
    const resourceIds = params.repeatList('ResourceId', MAX_RESOURCE_IDS);
    const given = params.tagParams();
    // Alibaba: a Tag.N.Value without its key is InvalidParameter.TagValue here (not DescribeInstances' Mismatch).
    if (given.some((t) => t.key === undefined || t.key === ''))
      throw new EcsError(400, 'InvalidParameter.TagValue', 'The specified parameter "Tag.N.Value" is not valid.');
    if (given.length > 20)
      throw new EcsError(400, 'InvalidTagCount', 'The specified tags are beyond the permitted range.');
    const page = await core.tags.list(caller, {
      regionId,
      resourceType,
      ...(resourceIds.length > 0 ? { resourceIds } : {}),
      tags: given.map((t) => ({ key: t.key!, value: t.value ?? '' })),
      ...(params.optional('NextToken') ? { nextToken: params.optional('NextToken') } : {}),
    });
    return {
      NextToken: page.nextToken ?? '',
      TagResources: {
        TagResource: page.items.map((r) => ({
          ResourceType: r.resourceType,
          ResourceId: r.resourceId,
          TagKey: r.key,
          TagValue: r.value,
        })),
      },
    };
  },

  JoinResourceGroup: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const resourceGroupId = params.required('ResourceGroupId');
    const resourceId = params.required('ResourceId');
    const resourceType = requireTaggableType(params.required('ResourceType'));
    await core.resourceGroups.join(caller, { regionId, resourceType, resourceId, resourceGroupId });
    return {};
  },
} satisfies Record<string, ActionHandler>;
