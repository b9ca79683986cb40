/**
 * The ECS 2014-05-26 operations keyfleet serves. The error table's per-operation overrides and the action router
 * are both keyed by these names, so a typo in either is a type error.
 */
export const ECS_ACTION_NAMES = [
  'CreateKeyPair',
  'ImportKeyPair',
  'DescribeKeyPairs',
  'DeleteKeyPairs',
  'AttachKeyPair',
  'DetachKeyPair',
  'RunInstances',
  'DescribeInstances',
  'StartInstance',
  'StopInstance',
  'RebootInstance',
  'ModifyInstanceAttribute',
  'DeleteInstance',
  'DescribeImages',
  'DescribeRegions',
  'TagResources',
  'UntagResources',
  'ListTagResources',
  'JoinResourceGroup',
] as const;

export type EcsActionName = (typeof ECS_ACTION_NAMES)[number];

/** The only API version this face speaks. */
export const ECS_API_VERSION = '2014-05-26';
