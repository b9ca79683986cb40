/**
 * The simulated fleet through the ECS API: RunInstances, DescribeInstances, Start/Stop/RebootInstance,
 * ModifyInstanceAttribute (Password), DeleteInstance (API.md §3.7–§3.9).
 *
 * Lifecycle calls take only InstanceId: instance IDs are global in keyfleet, and a RegionId sent anyway is
 * tolerated like any extra parameter (API.md §1.1). A change of key pair or password waits for the machine's
 * next RebootInstance (Running) or StartInstance (Stopped), exactly as the core records it.
 */
import { isCoreError } from '../../../core/errors.js';
import { type InstanceStatus, validateInstanceName, validatePassword } from '../../../core/instance/instance.js';
import { ecsErrors } from '../errors.js';
import type { Params } from '../params.js';
import { instanceView } from '../views.js';
import type { ActionContext, ActionHandler } from './context.js';

/** RunInstances creates 1-100 instances per call (Alibaba's Amount range; the core allows more). */
const RUN_AMOUNT = { min: 1, max: 100 };
/** DescribeInstances: PageSize and MaxResults at most 100; InstanceIds at most 100 (API.md §3.7). */
const INSTANCE_PAGE = { min: 1, max: 100 };
const MAX_DESCRIBE_IDS = 100;
const PAGE_NUMBER = { min: 1, max: 1_000_000_000 };

const CHARGE_TYPES = ['PrePaid', 'PostPaid'] as const;
const NETWORK_TYPES = ['classic', 'vpc'] as const;

/**
 * Attributes of ModifyInstanceAttribute other than Password (the 7.11.6 request model). The core cannot change
 * them yet, so a request carrying one is refused: answering success while ignoring it would be a lie.
 */
const UNSUPPORTED_MODIFY_ATTRIBUTES =
  /^(InstanceName|Description|HostName|UserData|SecurityGroupIds\.\d+|CreditSpecification|DeletionProtection|NetworkInterfaceQueueNumber|Recyclable|EnableJumboFrame|EnableNetworkEncryption|CpuOptions\..+|RemoteConnectionOptions\..+|PrivateDnsNameOptions\..+)$/;

/** DryRun asks for the checks without the effect; where the core has no check-only mode, refuse rather than act. */
function refuseDryRun(params: Params): void {
  if (params.boolean('DryRun', false)) throw ecsErrors.unsupportedParameter('DryRun');
}

function lifecycle(op: 'start' | 'stop' | 'reboot'): ActionHandler {
  return async ({ core, caller, params }) => {
    const instanceId = params.required('InstanceId');
    const dryRun = params.boolean('DryRun', false);
    await core.instances[op](caller, instanceId, { dryRun });
    // A dry run that passed every check is answered with an error code, as Alibaba does (API.md §3.8).
    if (dryRun) throw ecsErrors.dryRunPassed();
    return {};
  };
}

/** PageNumber/PageSize paging, or NextToken/MaxResults (MaxResults below 10 counts as 10; API.md §3.7). */
function instancePaging(params: Params): { offset: number; limit: number; pageNumber?: number; tokens: boolean } {
  const token = params.optional('NextToken');
  const maxResults = params.integer('MaxResults', INSTANCE_PAGE);
  if (token !== undefined || maxResults !== undefined) {
    // The token is the offset of the next page: opaque to clients, checked here.
    if (token !== undefined && !/^\d{1,12}$/.test(token)) throw ecsErrors.invalidParameter('NextToken');
    return { offset: token === undefined ? 0 : Number(token), limit: Math.max(10, maxResults ?? 10), tokens: true };
  }
  const pageNumber = params.integer('PageNumber', PAGE_NUMBER, 1);
  const pageSize = params.integer('PageSize', INSTANCE_PAGE, 10);
  return { offset: (pageNumber - 1) * pageSize, limit: pageSize, pageNumber, tokens: false };
}

function describeIds(params: Params): string[] | undefined {
  if (params.optional('InstanceIds') === undefined) return undefined;
  const ids = params.jsonArray('InstanceIds', () => ecsErrors.invalidParameter('InstanceIds'));
  if (ids.length > MAX_DESCRIBE_IDS || ids.some((id) => typeof id !== 'string'))
    throw ecsErrors.invalidParameter('InstanceIds');
  return ids.length === 0 ? undefined : (ids as string[]);
}

async function describeInstances({ core, caller, params }: ActionContext) {
  const regionId = params.required('RegionId');
  const ids = describeIds(params);
  const chargeType = params.oneOf('InstanceChargeType', CHARGE_TYPES, ecsErrors.instanceChargeTypeNotFound);
  const networkType = params.oneOf('InstanceNetworkType', NETWORK_TYPES, ecsErrors.networkTypeNotFound);
  // InvalidTag.Mismatch and InvalidTagCount here; every tag given must match (a key alone: any value).
  const tags = params.tagFilters();
  const paging = instancePaging(params);
  const page = await core.instances.list(caller, {
    regionId,
    ids,
    namePattern: params.filter('InstanceName', 128),
    // Checked by the core against its statuses (the same five as Alibaba's); an unknown one is InvalidStatus.NotFound.
    status: params.optional('Status') as InstanceStatus | undefined,
    keyPairName: params.filter('KeyPairName', 255),
    resourceGroupId: params.filter('ResourceGroupId', 64),
    tags,
    offset: paging.offset,
    limit: paging.limit,
  });
  // Every keyfleet instance is pay-as-you-go in a VPC (views.ts): another charge or network type matches none.
  const none =
    (chargeType !== undefined && chargeType !== 'PostPaid') || (networkType !== undefined && networkType !== 'vpc');
  const items = none ? [] : page.items;
  const total = none ? 0 : page.total;
  const types = core.instanceTypes();
  const next = paging.offset + items.length;
  return {
    ...(paging.tokens ? {} : { PageNumber: paging.pageNumber, PageSize: paging.limit }),
    TotalCount: total,
    NextToken: paging.tokens && next < total ? String(next) : '',
    Instances: { Instance: items.map((i) => instanceView(i, types)) },
  };
}

/**
 * Password: stored as a pending hash, installed by the machine at its next start or restart. A password the core
 * refuses for this instance's OS although it is well formed in general is Alibaba's InvalidHostPassword.Malformed.
 */
async function modifyInstanceAttribute({ core, caller, params }: ActionContext) {
  const instanceId = params.required('InstanceId');
  const name = params.optional('InstanceName');
  if (name !== undefined) validateInstanceName(name);
  const unsupported = params.names().find((n) => UNSUPPORTED_MODIFY_ATTRIBUTES.test(n));
  if (unsupported) throw ecsErrors.unsupportedParameter(unsupported);
  const password = params.optional('Password');
  if (password === undefined) {
    // Nothing to change: answer as Alibaba does for an empty modification, after the existence check.
    await core.instances.get(caller, instanceId);
    return {};
  }
  try {
    await core.instances.resetPassword(caller, instanceId, password);
  } catch (err) {
    if (isCoreError(err) && err.code === 'Instance.PasswordMalformed' && isWellFormedInGeneral(password))
      throw ecsErrors.hostPasswordMalformed();
    throw err;
  }
  return {};
}

function isWellFormedInGeneral(password: string): boolean {
  try {
    validatePassword(password, 'linux');
    return true;
  } catch {
    return false;
  }
}

export const instanceActions = {
  RunInstances: async ({ core, caller, params }) => {
    const regionId = params.required('RegionId');
    const imageId = params.required('ImageId');
    const amount = params.integer('Amount', RUN_AMOUNT, 1);
    refuseDryRun(params);
    const ids = await core.instances.run(caller, {
      regionId,
      imageId,
      instanceType: params.optional('InstanceType'),
      amount,
      name: params.optional('InstanceName'),
      password: params.optional('Password'),
      keyPairName: params.optional('KeyPairName'),
      resourceGroupId: params.optional('ResourceGroupId'),
      tags: params.tagsToSet(),
      description: params.optional('Description'),
    });
    return { InstanceIdSets: { InstanceIdSet: ids } };
  },
  DescribeInstances: describeInstances,
  StartInstance: lifecycle('start'),
  StopInstance: lifecycle('stop'),
  RebootInstance: lifecycle('reboot'),
  ModifyInstanceAttribute: modifyInstanceAttribute,
  /** Refused unless Stopped, or Running with Force=true (IncorrectInstanceStatus otherwise). */
  DeleteInstance: async ({ core, caller, params }) => {
    const instanceId = params.required('InstanceId');
    const force = params.boolean('Force', false);
    refuseDryRun(params);
    await core.instances.delete(caller, instanceId, { force });
    return {};
  },
} satisfies Record<string, ActionHandler>;
