/**
 * The core's permissions. Each face maps its own action names onto these (ecs:DetachKeyPair and
 * kps:SSHKeyPair:unbind both mean `keypair:Unbind`), so a policy means the same thing on every face.
 */
export const ACTIONS = [
  'keypair:Create',
  'keypair:Import',
  'keypair:Describe',
  'keypair:Update',
  'keypair:Delete',
  'keypair:Bind',
  'keypair:Unbind',
  'keypair:ExportPrivateKey',
  'keypair:ImportPrivateKey',
  'keypair:ClearPrivateKey',
  /**
   * Start, pause, resume or cancel a rotation in waves, on both key pairs it names (the one replaced and the one
   * replacing it). Each machine of a wave is still changed only where the user may bind the new key pair.
   */
  'keypair:Rotate',
  /** Revoke a key everywhere: scan every machine for it, unbind it, remove hand-added copies when asked, prove it refused. */
  'keypair:Revoke',
  'instance:Create',
  'instance:Describe',
  /** Read the keys a host really has (drift scan): who can log in is more than the instance's description. */
  'instance:DescribeKeys',
  /** Change how keyfleet reaches a registered host: re-pin its host key, replace its management key, settings. */
  'instance:UpdateHost',
  'instance:Start',
  'instance:Stop',
  'instance:Reboot',
  'instance:ResetPassword',
  'instance:Delete',
  'task:Describe',
  'task:Delete',
  'image:Describe',
  'region:Describe',
  'audit:Describe',
  /** Tags of key pairs and instances (issue 20): checked on each resource tagged, untagged or listed. */
  'tag:Create',
  'tag:Delete',
  'tag:Describe',
  /** Resource groups: checked on the group (`resourcegroup/{id}`); moving a resource is also checked on the resource. */
  'resourcegroup:Create',
  'resourcegroup:Update',
  'resourcegroup:Delete',
  'resourcegroup:Describe',
  'resourcegroup:Join',
] as const;

export type Action = (typeof ACTIONS)[number];

/** A resource named the way RAM names it: acs:ecs:{region}:{account}:{type}/{id}. */
export interface ResourceRef {
  type: 'keypair' | 'instance' | 'task' | 'image' | 'region' | 'audit' | 'resourcegroup' | '*';
  regionId: string;
  id: string;
  resourceGroupId?: string;
}
