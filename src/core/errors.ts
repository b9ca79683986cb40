/**
 * CoreError is the one error type the core raises. It carries a kind (what sort of failure, which each face maps
 * to a status) and a stable code (which each face maps to its own wire code: Alibaba `Code`, Huawei `error_code`,
 * the native API's `code`). The core never speaks HTTP; the faces own their envelopes.
 *
 * Messages use product words and quote the identifier the caller passed. They never carry key material,
 * passwords or secrets: `details` is for identifiers and limits only.
 */
export type ErrorKind =
  | 'InvalidInput'
  | 'NotFound'
  | 'Conflict'
  | 'Forbidden'
  | 'Unauthenticated'
  | 'LimitExceeded'
  | 'IncorrectState'
  | 'Unavailable'
  | 'Internal';

/** Every code the core can raise, with its kind. Faces must map each one (a test checks the tables are total). */
export const ErrorCodes = {
  'Input.Invalid': 'InvalidInput',
  'Input.Missing': 'InvalidInput',
  'Input.TooLarge': 'InvalidInput',
  'Region.NotFound': 'NotFound',
  'ResourceGroup.NotFound': 'NotFound',
  'ResourceGroup.AlreadyExists': 'Conflict',
  'ResourceGroup.NameMalformed': 'InvalidInput',
  /** A group that still holds key pairs or instances is not deleted (move them first). */
  'ResourceGroup.NotEmpty': 'IncorrectState',
  'ResourceGroup.QuotaExceeded': 'LimitExceeded',
  /** The account's default group is neither renamed nor deleted. */
  'ResourceGroup.DefaultImmutable': 'IncorrectState',
  /** A tag or group call named a key pair or instance the account does not have in that region. */
  'Resource.NotFound': 'NotFound',
  'Tag.ResourceTypeInvalid': 'InvalidInput',
  'Tag.NextTokenInvalid': 'InvalidInput',
  'KeyPair.NameMalformed': 'InvalidInput',
  'KeyPair.NotFound': 'NotFound',
  'KeyPair.AlreadyExists': 'Conflict',
  'KeyPair.InUse': 'Conflict',
  'KeyPair.QuotaExceeded': 'LimitExceeded',
  'KeyPair.TagInvalid': 'InvalidInput',
  'PublicKey.Malformed': 'InvalidInput',
  'PublicKey.UnsupportedType': 'InvalidInput',
  'PublicKey.TooWeak': 'InvalidInput',
  'PrivateKey.Malformed': 'InvalidInput',
  'PrivateKey.Mismatch': 'InvalidInput',
  'PrivateKey.NotEscrowed': 'NotFound',
  'Image.NotFound': 'NotFound',
  'InstanceType.NotFound': 'NotFound',
  'Instance.NotFound': 'NotFound',
  'Instance.WindowsNotSupported': 'IncorrectState',
  'Instance.NotIoOptimized': 'IncorrectState',
  'Instance.IncorrectStatus': 'IncorrectState',
  'Instance.NotBound': 'IncorrectState',
  'Instance.AlreadyBound': 'IncorrectState',
  'Instance.LiveOnly': 'IncorrectState',
  'Instance.AlreadyRegistered': 'Conflict',
  'Instance.PasswordMalformed': 'InvalidInput',
  'Instance.NameMalformed': 'InvalidInput',
  'Instance.QuotaExceeded': 'LimitExceeded',
  /** A simulated instance's own file (e.g. /etc/shadow) is over the size keyfleet reads, so a change to it is refused. */
  'Instance.GuestFileTooLarge': 'IncorrectState',
  'Batch.Empty': 'InvalidInput',
  'Batch.TooLarge': 'LimitExceeded',
  'Batch.DuplicateIds': 'InvalidInput',
  'Batch.Malformed': 'InvalidInput',
  'Task.NotFound': 'NotFound',
  'Task.NotFailed': 'IncorrectState',
  'Live.CredentialRequired': 'InvalidInput',
  'Live.CredentialRejected': 'Forbidden',
  'Live.Unreachable': 'Unavailable',
  'Live.HostKeyChanged': 'Forbidden',
  'Live.VerificationFailed': 'Internal',
  'Live.RemoteError': 'Internal',
  'Live.CredentialLost': 'Unavailable',
  'Live.LockoutRefused': 'IncorrectState',
  /** Bindings that expire (issue 19): an expiry out of bounds; extending what is not bound, or has expired. */
  'Binding.ExpiryInvalid': 'InvalidInput',
  'Binding.NotBound': 'IncorrectState',
  'Binding.Expired': 'IncorrectState',
  'Binding.ExpiryNeedsManagementKey': 'IncorrectState',
  /** A step of a live change took longer than its timeout: a network fault, retried like Live.Unreachable. */
  'Live.Timeout': 'Unavailable',
  /** Observed after an interruption: part of the change took effect (which part is in the message). */
  'Live.PartlyApplied': 'IncorrectState',
  /** An interrupted change whose effect could not be observed (the machine did not answer the probes). */
  'Live.StateUnknown': 'Unavailable',
  'Auth.Unauthenticated': 'Unauthenticated',
  'Auth.Throttled': 'LimitExceeded',
  'Account.NotFound': 'NotFound',
  'Account.AlreadyExists': 'Conflict',
  'User.NotFound': 'NotFound',
  'User.AlreadyExists': 'Conflict',
  'User.NameMalformed': 'InvalidInput',
  'User.PasswordWeak': 'InvalidInput',
  'AccessKey.NotFound': 'NotFound',
  'AccessKey.Inactive': 'Unauthenticated',
  'AccessKey.LimitExceeded': 'LimitExceeded',
  'Policy.Malformed': 'InvalidInput',
  'Policy.NotFound': 'NotFound',
  'Policy.AlreadyExists': 'Conflict',
  'Policy.InUse': 'Conflict',
  'Policy.LimitExceeded': 'LimitExceeded',
  'User.PolicyLimitExceeded': 'LimitExceeded',
  'Group.PolicyLimitExceeded': 'LimitExceeded',
  'Group.NotFound': 'NotFound',
  'Group.AlreadyExists': 'Conflict',
  'Webhook.NotFound': 'NotFound',
  'Webhook.LimitExceeded': 'LimitExceeded',
  'Rotation.NotFound': 'NotFound',
  'Rotation.IncorrectStatus': 'IncorrectState',
  /** No instance is bound to the key pair a rotation would replace. */
  'Rotation.NothingToRotate': 'IncorrectState',
  'Rotation.LimitExceeded': 'LimitExceeded',
  'Revocation.NotFound': 'NotFound',
  /** Applied twice, or applied after it finished. */
  'Revocation.IncorrectState': 'IncorrectState',
  /** Revoking by fingerprint: no key pair and no machine has a key with it, so there is no key to prove refused. */
  'Revocation.KeyUnknown': 'NotFound',
  'Auth.Forbidden': 'Forbidden',
  Internal: 'Internal',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ErrorCodes;

export class CoreError extends Error {
  readonly kind: ErrorKind;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, string | number | boolean | string[]> = {},
  ) {
    super(message);
    this.name = 'CoreError';
    this.kind = ErrorCodes[code];
  }
}

export function isCoreError(e: unknown): e is CoreError {
  return e instanceof CoreError;
}

/** A per-item outcome inside a batch: batches report partial success, never all-or-nothing by accident. */
export type ItemResult<T = undefined> = { ok: true; value: T } | { ok: false; error: CoreError };
