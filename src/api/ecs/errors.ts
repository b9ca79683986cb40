/**
 * The ECS face's errors: Alibaba's codes, messages and HTTP statuses (docs/api/alibaba-ecs.md, "Errors").
 *
 * Two sources of errors reach the wire:
 *  - CoreErrors, mapped by a TOTAL table (`CORE_TO_ECS`, one entry per core code: adding a code to the core without
 *    a mapping here is a type error, and test/ecs/error-mapping.test.ts checks the table at run time), refined per
 *    operation where Alibaba words the same condition differently (`OVERRIDES`, e.g. a batch over 50 instances is
 *    403 InstanceKeyPairLimitExceeded for AttachKeyPair but a generic InvalidParameter elsewhere);
 *  - protocol errors the face raises itself (`ecsErrors`): signatures, access keys, parameter syntax, DryRun.
 *
 * Messages are Alibaba's fixed texts, never the core's message: the core's texts quote identifiers the caller
 * sent, which is harmless, but Alibaba clients match on Alibaba's wording, and a fixed text can never carry a
 * password or key material by accident.
 *
 * Codes listed in API.md that keyfleet never produces, because their condition cannot occur here, are in
 * `NOT_PRODUCED` with the reason (the error-code suite checks that every other API.md code is proven by a test).
 */
import { CoreError, type ErrorCode, ErrorCodes, isCoreError } from '../../core/errors.js';
import type { EcsActionName } from './action-names.js';

/** An error in Alibaba's terms: HTTP status, `Code`, `Message`. */
export class EcsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EcsError';
  }
}

export interface EcsErrorSpec {
  status: number;
  code: string;
  message: string;
}

type Rule = EcsErrorSpec | ((err: CoreError) => EcsErrorSpec);
/** An override answers for the conditions it refines and returns undefined to fall back to the table. */
type Override = (err: CoreError) => EcsErrorSpec | undefined;

const spec = (status: number, code: string, message: string): EcsErrorSpec => ({ status, code, message });

function parameterOf(err: CoreError): string | undefined {
  const p = err.details['parameter'];
  return typeof p === 'string' ? p : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed texts (API.md)

const INVALID_INSTANCE_IDS = spec(
  400,
  'InvalidInstanceIds.ValueNotSupported',
  'The specified parameter InstanceIds is not valid.',
);
const INVALID_KEY_PAIR_NAMES = spec(
  400,
  'InvalidKeyPairNames.ValueNotSupported',
  'The specified parameter "KeyPairNames" is not valid.',
);
const WINDOWS_INSTANCE = spec(
  403,
  'DependencyViolation.WindowsInstance',
  'The instance creating is windows, cannot use ssh key pair to login.',
);
const INTERNAL_ERROR = spec(
  500,
  'InternalError',
  'The request processing has failed due to some unknown error, exception or failure.',
);
const SERVICE_UNAVAILABLE = spec(
  503,
  'ServiceUnavailable',
  'The request has failed due to a temporary failure of the server.',
);
const FORBIDDEN_RAM = spec(
  403,
  'Forbidden.RAM',
  "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
);
const INCORRECT_INSTANCE_STATUS = spec(
  403,
  'IncorrectInstanceStatus',
  'The current status of the resource does not support this operation.',
);

function missingParameterSpec(name: string | undefined): EcsErrorSpec {
  return name
    ? spec(
        400,
        'MissingParameter',
        `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
      )
    : spec(400, 'MissingParameter', 'A parameter that is mandatory for processing this request is not supplied.');
}

function invalidParameterSpec(name: string | undefined): EcsErrorSpec {
  return name
    ? spec(400, 'InvalidParameter', `The specified parameter "${name}" is not valid.`)
    : spec(400, 'InvalidParameter', 'The specified parameter is not valid.');
}

// ---------------------------------------------------------------------------------------------------------------
// The total table: every core code → Alibaba

export const CORE_TO_ECS: Record<ErrorCode, Rule> = {
  'Input.Invalid': (e) => invalidParameterSpec(parameterOf(e)),
  'Input.Missing': (e) => missingParameterSpec(parameterOf(e)),
  'Input.TooLarge': spec(400, 'InvalidParameter', 'The request is too large.'),
  'Region.NotFound': spec(404, 'InvalidRegionId.NotFound', 'The specified RegionId does not exist.'),
  'ResourceGroup.NotFound': spec(
    404,
    'InvalidResourceGroup.NotFound',
    'The ResourceGroup provided does not exist in our records.',
  ),
  // Resource groups are managed through the native API and the CLI (Alibaba's are a separate service, Resource
  // Management); only JoinResourceGroup reaches them here, so these answer as a bad parameter would.
  'ResourceGroup.AlreadyExists': (e) => invalidParameterSpec(parameterOf(e) ?? 'ResourceGroupName'),
  'ResourceGroup.NameMalformed': (e) => invalidParameterSpec(parameterOf(e) ?? 'ResourceGroupName'),
  'ResourceGroup.NotEmpty': spec(403, 'OperationDenied', 'The resource group is not empty.'),
  'ResourceGroup.QuotaExceeded': spec(403, 'OperationDenied', 'The resource group quota exceeds.'),
  'ResourceGroup.DefaultImmutable': spec(403, 'OperationDenied', 'The default resource group cannot be changed.'),
  // TagResources, UntagResources, JoinResourceGroup (docs/api/alibaba-ecs.md, "Tags and resource groups").
  'Resource.NotFound': spec(
    404,
    'InvalidResourceId.NotFound',
    'The specified ResourceIds are not found in our records.',
  ),
  'Tag.ResourceTypeInvalid': spec(
    404,
    'InvalidResourceType.NotFound',
    'The ResourceType provided does not exist in our records.',
  ),
  'Tag.NextTokenInvalid': invalidParameterSpec('NextToken'),
  'KeyPair.NameMalformed': spec(400, 'InvalidKeyPairName.Malformed', 'Specified Key Pair name is not valid.'),
  // API.md §3.5: 400 in the current pages (older pages said 404).
  'KeyPair.NotFound': spec(
    400,
    'InvalidKeyPairName.NotFound',
    'The specified KeyPairName does not exist in our records.',
  ),
  'KeyPair.AlreadyExists': spec(400, 'KeyPair.AlreadyExist', 'The key pair already exist.'),
  'KeyPair.InUse': spec(
    400,
    'InvalidParameter.KeypairAlreadyAttachedInstance',
    'The specified parameter "KeyPairNames" attached to instances can not be deleted.',
  ),
  'KeyPair.QuotaExceeded': spec(403, 'QuotaExceed.KeyPair', 'The key pair quota exceeds.'),
  // One core code, four Alibaba codes (API.md §3.1); the core says which rule failed in details.reason.
  'KeyPair.TagInvalid': (e) => {
    switch (e.details['reason']) {
      case 'duplicate':
        return spec(400, 'Duplicate.TagKey', 'The Tag.N.Key contain duplicate key.');
      case 'key':
        return spec(400, 'InvalidTagKey.Malformed', 'The specified Tag.n.Key is not valid.');
      case 'value':
        return spec(400, 'InvalidTagValue.Malformed', 'The specified Tag.n.Value is not valid.');
      default:
        // QuotaExceed.Tags' message is "%s" in Alibaba's table: the core's count message fills it (it holds numbers only).
        return spec(403, 'QuotaExceed.Tags', e.message);
    }
  },
  'PublicKey.Malformed': spec(400, 'InvalidPublicKeyBody.Malformed', 'The PublicKeyBody format is not supported.'),
  'PublicKey.UnsupportedType': spec(
    400,
    'InvalidPublicKeyBody.Malformed',
    'The PublicKeyBody format is not supported.',
  ),
  'PublicKey.TooWeak': spec(400, 'InvalidPublicKeyBody.Malformed', 'The PublicKeyBody format is not supported.'),
  // The ECS API has no private-key operations; these three cannot reach this face but must still map somewhere.
  'PrivateKey.Malformed': invalidParameterSpec('PrivateKeyBody'),
  'PrivateKey.Mismatch': invalidParameterSpec('PrivateKeyBody'),
  'PrivateKey.NotEscrowed': spec(404, 'InvalidParameter', 'No private key is kept for the specified key pair.'),
  'Image.NotFound': spec(404, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.'),
  'InstanceType.NotFound': spec(
    400,
    'InvalidInstanceType.ValueNotSupported',
    'The specified InstanceType does not exist or beyond the permitted range.',
  ),
  'Instance.NotFound': spec(404, 'InvalidInstanceId.NotFound', 'The specified InstanceId does not exist.'),
  'Instance.WindowsNotSupported': WINDOWS_INSTANCE,
  'Instance.NotIoOptimized': spec(
    400,
    'DependencyViolation.IoOptimize',
    'The specified parameter InstanceIds is not valid.',
  ),
  'Instance.IncorrectStatus': INCORRECT_INSTANCE_STATUS,
  'Instance.NotBound': INCORRECT_INSTANCE_STATUS,
  'Instance.AlreadyBound': INCORRECT_INSTANCE_STATUS,
  'Instance.PasswordMalformed': spec(
    400,
    'InvalidPassword.Malformed',
    'The specified parameter "Password" is not valid.',
  ),
  'Instance.NameMalformed': spec(
    400,
    'InvalidInstanceName.Malformed',
    'The specified parameter "InstanceName" is not valid.',
  ),
  'Instance.QuotaExceeded': spec(403, 'QuotaExceed.Instance', 'The instance quota exceeds.'),
  'Batch.Empty': (e) => invalidParameterSpec(parameterOf(e)),
  'Batch.TooLarge': (e) => invalidParameterSpec(parameterOf(e)),
  'Batch.DuplicateIds': (e) => invalidParameterSpec(parameterOf(e)),
  'Batch.Malformed': (e) => invalidParameterSpec(parameterOf(e)),
  // Tasks are a native-API notion; the ECS operations wait for theirs and never name one.
  'Task.NotFound': spec(404, 'InvalidTaskId.NotFound', 'The specified TaskId does not exist.'),
  'Task.NotFailed': spec(403, 'IncorrectTaskStatus', 'The current status of the task does not support this operation.'),
  // Live changes (over SSH, with a credential) are a native-API mode; the ECS face always binds on restart.
  'Live.CredentialRequired': missingParameterSpec('Credential'),
  'Live.CredentialRejected': FORBIDDEN_RAM,
  'Live.Unreachable': SERVICE_UNAVAILABLE,
  'Live.HostKeyChanged': INCORRECT_INSTANCE_STATUS,
  'Live.LockoutRefused': INCORRECT_INSTANCE_STATUS,
  'Binding.ExpiryInvalid': (e) => invalidParameterSpec(parameterOf(e)),
  'Binding.NotBound': INCORRECT_INSTANCE_STATUS,
  'Binding.Expired': INCORRECT_INSTANCE_STATUS,
  'Binding.ExpiryNeedsManagementKey': INCORRECT_INSTANCE_STATUS,
  'Instance.LiveOnly': INCORRECT_INSTANCE_STATUS,
  'Instance.GuestFileTooLarge': INCORRECT_INSTANCE_STATUS,
  'Instance.AlreadyRegistered': spec(
    409,
    'EntityAlreadyExists.Instance',
    'An instance with this address and SSH port already exists.',
  ),
  'Live.VerificationFailed': INTERNAL_ERROR,
  'Live.RemoteError': INTERNAL_ERROR,
  'Live.CredentialLost': SERVICE_UNAVAILABLE,
  'Live.Timeout': SERVICE_UNAVAILABLE,
  'Live.PartlyApplied': INCORRECT_INSTANCE_STATUS,
  'Live.StateUnknown': SERVICE_UNAVAILABLE,
  'Auth.Unauthenticated': spec(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  // Any Code containing "Throttling" makes the new SDK raise its ThrottlingError (SDK-TRAFFIC §5.1).
  'Auth.Throttled': spec(400, 'Throttling.User', 'Request was denied due to user flow control.'),
  // Identity management is not part of the ECS API (RAM is another product); these answer in RAM's terms
  // should an ECS operation ever meet them.
  'Account.NotFound': spec(404, 'EntityNotExist.Account', 'The specified account does not exist.'),
  'Account.AlreadyExists': spec(409, 'EntityAlreadyExists.Account', 'The specified account already exists.'),
  'User.NotFound': spec(404, 'EntityNotExist.User', 'The specified user does not exist.'),
  'User.AlreadyExists': spec(409, 'EntityAlreadyExists.User', 'The specified user already exists.'),
  'User.NameMalformed': invalidParameterSpec('UserName'),
  'User.PasswordWeak': invalidParameterSpec('Password'),
  'AccessKey.NotFound': spec(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  'AccessKey.Inactive': spec(400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.'),
  'AccessKey.LimitExceeded': spec(
    409,
    'LimitExceeded.User.AccessKey',
    'The count of access keys of the user exceeds the limit.',
  ),
  'Policy.Malformed': spec(400, 'MalformedPolicyDocument', 'The policy document is not valid.'),
  'Policy.NotFound': spec(404, 'EntityNotExist.Policy', 'The specified policy does not exist.'),
  'Policy.AlreadyExists': spec(409, 'EntityAlreadyExists.Policy', 'The specified policy already exists.'),
  'Policy.InUse': spec(
    409,
    'DeleteConflict.Policy.User',
    'The policy is attached to users or groups; detach it first.',
  ),
  // RAM's codes for its policy limits (CreatePolicy, AttachPolicyToUser, AttachPolicyToGroup).
  'Policy.LimitExceeded': spec(409, 'LimitExceeded.Policy', 'The count of policies beyond the current limits.'),
  'User.PolicyLimitExceeded': spec(
    409,
    'LimitExceeded.User.Policy',
    'The count of policies attached to the user beyond the current limits.',
  ),
  'Group.PolicyLimitExceeded': spec(
    409,
    'LimitExceeded.Group.Policy',
    'The count of policies attached to the group beyond the current limits.',
  ),
  'Group.NotFound': spec(404, 'EntityNotExist.Group', 'The specified group does not exist.'),
  'Group.AlreadyExists': spec(409, 'EntityAlreadyExists.Group', 'The specified group already exists.'),
  // Webhooks are served by the native API only; these codes never reach the ECS face but the table is total.
  'Webhook.NotFound': spec(404, 'InvalidParameter', 'The specified webhook endpoint does not exist.'),
  'Revocation.NotFound': spec(404, 'InvalidParameter', 'The specified revocation does not exist.'),
  'Revocation.IncorrectState': spec(403, 'IncorrectStatus', 'The revocation is not in a state that allows this.'),
  'Revocation.KeyUnknown': spec(404, 'InvalidParameter', 'No key with the specified fingerprint is known.'),
  'Webhook.LimitExceeded': spec(409, 'QuotaExceed', 'The webhook endpoint quota is exceeded.'),
  'Rotation.NotFound': spec(404, 'InvalidParameter', 'The specified rotation does not exist.'),
  'Rotation.IncorrectStatus': spec(403, 'IncorrectStatus', 'The rotation is not in a state that allows this.'),
  'Rotation.NothingToRotate': spec(403, 'IncorrectStatus', 'No instance is bound to the key pair.'),
  'Rotation.LimitExceeded': spec(409, 'QuotaExceed', 'The rotation quota is exceeded.'),
  'Auth.Forbidden': FORBIDDEN_RAM,
  Internal: INTERNAL_ERROR,
};

// ---------------------------------------------------------------------------------------------------------------
// Per-operation wording (API.md §3)

const KEY_PAIR_BATCH: Partial<Record<ErrorCode, Override>> = {
  'Batch.TooLarge': () =>
    spec(403, 'InstanceKeyPairLimitExceeded', 'The specified instances are beyond the permitted range.'),
  'Batch.Empty': () => INVALID_INSTANCE_IDS,
  'Batch.Malformed': () => INVALID_INSTANCE_IDS,
  'Batch.DuplicateIds': () => INVALID_INSTANCE_IDS,
};

export const OVERRIDES: Partial<Record<EcsActionName, Partial<Record<ErrorCode, Override>>>> = {
  CreateKeyPair: {
    'Region.NotFound': () =>
      spec(404, 'InvalidRegionId.NotFound', 'The RegionId provided does not exist in our records.'),
  },
  DeleteKeyPairs: {
    'Batch.TooLarge': () =>
      spec(403, 'InstanceKeyPairLimitExceeded', 'Exceeding the allowed amount of instance which will be deleted.'),
    'Batch.Empty': () => INVALID_KEY_PAIR_NAMES,
    'Batch.Malformed': () => INVALID_KEY_PAIR_NAMES,
  },
  AttachKeyPair: {
    ...KEY_PAIR_BATCH,
    // AttachKeyPair's text has no final full stop, DetachKeyPair's has (API.md §3.5, §3.6).
    'Instance.WindowsNotSupported': () => ({
      ...WINDOWS_INSTANCE,
      message: 'The instance creating is windows, cannot use ssh key pair to login',
    }),
  },
  DetachKeyPair: KEY_PAIR_BATCH,
  DescribeInstances: {
    'Input.Invalid': (e) =>
      parameterOf(e) === 'Status'
        ? spec(404, 'InvalidStatus.NotFound', 'The specified Status is not found')
        : undefined,
  },
};

function fromCore(err: CoreError, action: EcsActionName | undefined): EcsErrorSpec {
  const override = action ? OVERRIDES[action]?.[err.code]?.(err) : undefined;
  if (override) return override;
  const rule = CORE_TO_ECS[err.code];
  return typeof rule === 'function' ? rule(err) : rule;
}

/** The Alibaba error for a core error, as the given operation words it. */
export function ecsSpecOfCore(err: CoreError, action?: EcsActionName): EcsErrorSpec {
  return fromCore(err, action);
}

/**
 * Code and message of one failed item of an AttachKeyPair/DetachKeyPair batch (`Results.Result[]`), from the
 * core code the task item recorded.
 */
export function itemErrorOf(errorCode: string | null, action: EcsActionName): { code: string; message: string } {
  const code = errorCode !== null && Object.hasOwn(ErrorCodes, errorCode) ? (errorCode as ErrorCode) : 'Internal';
  const s = fromCore(new CoreError(code, ''), action);
  return { code: s.code, message: s.message };
}

/** Any thrown value → an EcsError; `unexpected` marks the ones worth a log line (they are answered as InternalError). */
export function toEcsError(err: unknown, action?: EcsActionName): { error: EcsError; unexpected: boolean } {
  if (err instanceof EcsError) return { error: err, unexpected: false };
  if (isCoreError(err)) {
    const s = fromCore(err, action);
    return { error: new EcsError(s.status, s.code, s.message), unexpected: err.kind === 'Internal' };
  }
  const fastifyCode = (err as { code?: unknown } | null)?.code;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { error: new EcsError(400, 'InvalidParameter', 'The request body is too large.'), unexpected: false };
  // A body of a media type the face does not read (the SDKs send a form or nothing): a client error, not a 500.
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return {
      error: new EcsError(
        400,
        'InvalidParameter',
        'The request body must be application/x-www-form-urlencoded (or be empty, with the parameters in the query).',
      ),
      unexpected: false,
    };
  // Fastify's other refusals of a malformed request (bad Content-Length, empty or broken body) are the client's too.
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (
    typeof fastifyCode === 'string' &&
    fastifyCode.startsWith('FST_ERR_CTP_') &&
    typeof statusCode === 'number' &&
    statusCode < 500
  )
    return { error: new EcsError(400, 'InvalidParameter', 'The request body could not be read.'), unexpected: false };
  return { error: new EcsError(INTERNAL_ERROR.status, INTERNAL_ERROR.code, INTERNAL_ERROR.message), unexpected: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors the face raises itself

export const ecsErrors = {
  missingParameter: (name: string) => fromSpec(missingParameterSpec(name)),
  invalidParameter: (name: string) => fromSpec(invalidParameterSpec(name)),
  /** A parameter Alibaba defines but keyfleet cannot honour yet: refused, never silently ignored. */
  unsupportedParameter: (name: string) =>
    new EcsError(400, 'InvalidParameter', `The specified parameter "${name}" is not supported by this service.`),
  // Gateway errors (API.md §1.4 and Alibaba's gateway).
  unsupportedHttpMethod: () => new EcsError(403, 'UnsupportedHTTPMethod', 'This HTTP method is not supported.'),
  unknownAction: () =>
    new EcsError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'),
  invalidVersion: () => new EcsError(400, 'InvalidVersion', 'Specified parameter Version is not valid.'),
  accessKeyNotFound: () => new EcsError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  accessKeyInactive: () => new EcsError(400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.'),
  // The mock's wording; Alibaba documents the code only (API.md §1.4).
  dryRunPassed: () => new EcsError(400, 'DryRunOperation', 'Request validation has been passed with DryRun flag set.'),
  // Key pair names (API.md §2; the core's own rule is broader).
  keyPairNameMalformed: () => fromSpec(CORE_TO_ECS['KeyPair.NameMalformed'] as EcsErrorSpec),
  // Batch parameters that are not even JSON arrays (API.md §1: JSON-array strings).
  instanceIdsNotSupported: () => fromSpec(INVALID_INSTANCE_IDS),
  keyPairNamesNotSupported: () => fromSpec(INVALID_KEY_PAIR_NAMES),
  // Tag filters (API.md §3.7).
  tagMismatch: () => new EcsError(400, 'InvalidTag.Mismatch', 'The specified Tag.n.Key and Tag.n.Value are not match.'),
  tagCount: () => new EcsError(400, 'InvalidTagCount', 'The specified tags are beyond the permitted range.'),
  // DescribeInstances filters (API.md §3.7).
  instanceChargeTypeNotFound: () =>
    new EcsError(404, 'InvalidInstanceChargeType.NotFound', 'The InstanceChargeType does not exist in our records.'),
  networkTypeNotFound: () =>
    new EcsError(404, 'InvalidNetworkType.NotFound', 'The specified InstanceNetworkType is not found.'),
  // DescribeRegions (API.md §3.10).
  regionsChargeTypeInvalid: () =>
    new EcsError(403, 'Invalid.InstanceChargeType', 'The specified InstanceChargeType is not valid.'),
  acceptLanguageNotFound: () =>
    new EcsError(
      404,
      'InvalidAcceptLanguage.NotFound',
      'Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.',
    ),
  resourceTypeNotFound: () =>
    new EcsError(404, 'InvalidResourceType.NotFound', 'The specified ResourceType is not found.'),
  // ModifyInstanceAttribute (API.md §3.9): a password that is well formed in general but not for this instance's OS.
  hostPasswordMalformed: () =>
    new EcsError(400, 'InvalidHostPassword.Malformed', 'The specified parameter "Password" is not valid.'),
};

function fromSpec(s: EcsErrorSpec): EcsError {
  return new EcsError(s.status, s.code, s.message);
}

/**
 * API.md codes whose condition cannot occur in keyfleet, with the reason. They are never produced; the
 * error-code suite checks that every other API.md code is.
 */
export const NOT_PRODUCED: Readonly<Record<string, string>> = {
  Throttling:
    "keyfleet's limits are per access key (KEYFLEET_RATE_LIMIT), answered as Throttling.User; there is no service-wide limit",
  InstanceLockedForSecurity: 'keyfleet never locks an instance for security reasons',
  InstanceExpiredOrInArrears: 'there is no billing: instances never expire or fall into arrears',
  'LimitedOperation.ServiceUnavailable':
    'no operation is ever restricted in keyfleet (there are no limited-operation windows)',
  'Unauthorized.EmptyRegion':
    'every account may use every configured region, and keyfleet refuses to start with no region',
};

// ---------------------------------------------------------------------------------------------------------------
// The envelope (API.md §1.3; SDK-TRAFFIC §6: a real 4xx/5xx status AND a capitalised Code, so both SDK families throw)

export function errorEnvelope(err: EcsError, requestId: string, hostId: string) {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=Ecs&requestId=${requestId}`,
  };
}
