/**
 * Each face's action names, mapped onto the core's permissions. A policy may name actions the way any face does
 * (`ecs:DetachKeyPair`, `kps:SSHKeyPair:unbind`) or the core's own names (`keypair:Unbind`); all of them mean the
 * same permission, so a statement written for one face governs every face.
 */
import { ACTIONS, type Action } from './actions.js';

export const FACE_ACTION_NAMES: Readonly<Record<string, readonly Action[]>> = {
  // Alibaba ECS (RAM action names of the operations keyfleet serves)
  'ecs:CreateKeyPair': ['keypair:Create'],
  'ecs:ImportKeyPair': ['keypair:Import'],
  'ecs:DescribeKeyPairs': ['keypair:Describe'],
  'ecs:DeleteKeyPairs': ['keypair:Delete'],
  'ecs:AttachKeyPair': ['keypair:Bind'],
  'ecs:DetachKeyPair': ['keypair:Unbind'],
  'ecs:RunInstances': ['instance:Create'],
  'ecs:DescribeInstances': ['instance:Describe'],
  'ecs:StartInstance': ['instance:Start'],
  'ecs:StopInstance': ['instance:Stop'],
  'ecs:RebootInstance': ['instance:Reboot'],
  'ecs:ModifyInstanceAttribute': ['instance:ResetPassword'],
  'ecs:DeleteInstance': ['instance:Delete'],
  'ecs:DescribeImages': ['image:Describe'],
  'ecs:DescribeRegions': ['region:Describe'],
  'ecs:TagResources': ['tag:Create'],
  'ecs:UntagResources': ['tag:Delete'],
  'ecs:ListTagResources': ['tag:Describe'],
  'ecs:JoinResourceGroup': ['resourcegroup:Join'],
  // Huawei KPS (identity-policy actions) and the ECS Nova key pair calls
  'kps:SSHKeyPair:create': ['keypair:Create', 'keypair:Import'],
  'kps:SSHKeyPair:list': ['keypair:Describe'],
  'kps:SSHKeyPair:get': ['keypair:Describe'],
  'kps:SSHKeyPair:update': ['keypair:Update'],
  'kps:SSHKeyPair:delete': ['keypair:Delete'],
  'kps:SSHKeyPair:bind': ['keypair:Bind'],
  'kps:SSHKeyPair:unbind': ['keypair:Unbind'],
  'kps:SSHKeyPair:exportPrivateKey': ['keypair:ExportPrivateKey'],
  'kps:SSHKeyPair:importPrivateKey': ['keypair:ImportPrivateKey'],
  'kps:SSHKeyPair:clearPrivateKey': ['keypair:ClearPrivateKey'],
  'kps:SSHKeyPair:getTask': ['task:Describe'],
  'kps:SSHKeyPair:deleteTask': ['task:Delete'],
  'ecs:serverKeypairs:create': ['keypair:Create', 'keypair:Import'],
  'ecs:serverKeypairs:list': ['keypair:Describe'],
  'ecs:serverKeypairs:get': ['keypair:Describe'],
  'ecs:serverKeypairs:delete': ['keypair:Delete'],
  // instance:DescribeKeys (drift scans of registered hosts) is served by the native face only, under its core name.
};

/** Every name a policy may use for an action, with the core permissions it stands for. */
export function actionNameTable(): Map<string, readonly Action[]> {
  const table = new Map<string, readonly Action[]>();
  for (const a of ACTIONS) table.set(a, [a]);
  for (const [name, actions] of Object.entries(FACE_ACTION_NAMES)) table.set(name, actions);
  return table;
}
