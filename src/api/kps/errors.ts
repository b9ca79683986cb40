/**
 * The KPS error envelope: `{"error_code","error_msg"}` with the KPS.xxxx codes of API.md §6, and API Gateway's
 * `{"error_code","error_msg","request_id"}` with APIGW.xxxx codes for authentication refusals (API.md §6, last
 * paragraph). The Node SDK reads `error_code`/`error_msg` from the body and the request id from `X-Request-Id`
 * (SDK-TRAFFIC.md §5), which every response carries.
 *
 * Huawei documents HTTP 400 for every KPS.xxxx client error (there is no conflict or quota code), so core errors of
 * those kinds map to 400 KPS.0002 with keyfleet's own message, which names the problem. Routes whose page documents
 * a specific code override the table (KpsRouteConfig.kpsErrors); the Nova routes use OpenStack statuses.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CoreError, ErrorCode, ErrorKind } from '../../core/errors.js';
import { frameworkCoreError, NOT_JSON } from '../http/framework-errors.js';
import { routeConfig } from './context.js';

export interface WireError {
  status: number;
  code: string;
}

/** An error the face raises in Huawei's own terms: gateway refusals and project scope. */
export class KpsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** API Gateway errors carry `request_id` in the body as well. */
    readonly gateway = false,
  ) {
    super(message);
    this.name = 'KpsFault';
  }
}

const PARAMETER: WireError = { status: 400, code: 'KPS.0002' };

/** Every core code, mapped (the Record type makes the table total). */
export const KPS_ERRORS: Record<ErrorCode, WireError> = {
  'Input.Invalid': PARAMETER,
  'Input.Missing': PARAMETER,
  'Input.TooLarge': { status: 413, code: 'KPS.0002' },
  'Region.NotFound': PARAMETER,
  'ResourceGroup.NotFound': PARAMETER,
  'ResourceGroup.AlreadyExists': PARAMETER,
  'ResourceGroup.NameMalformed': PARAMETER,
  'ResourceGroup.NotEmpty': PARAMETER,
  'ResourceGroup.QuotaExceeded': PARAMETER,
  'ResourceGroup.DefaultImmutable': PARAMETER,
  // Capture 12's code for an unknown key pair, as the key pair calls answer it.
  'Resource.NotFound': { status: 400, code: 'KPS.6004' },
  'Tag.ResourceTypeInvalid': PARAMETER,
  'Tag.NextTokenInvalid': PARAMETER,
  'KeyPair.NameMalformed': PARAMETER,
  // Capture 12: an unknown key pair is 400 KPS.6004 "No Keypair find".
  'KeyPair.NotFound': { status: 400, code: 'KPS.6004' },
  'KeyPair.AlreadyExists': PARAMETER,
  'KeyPair.InUse': PARAMETER,
  'KeyPair.QuotaExceeded': PARAMETER,
  'KeyPair.TagInvalid': PARAMETER,
  'PublicKey.Malformed': PARAMETER,
  'PublicKey.UnsupportedType': PARAMETER,
  'PublicKey.TooWeak': PARAMETER,
  'PrivateKey.Malformed': PARAMETER,
  'PrivateKey.Mismatch': { status: 400, code: 'KPS.6011' },
  'PrivateKey.NotEscrowed': { status: 400, code: 'KPS.6005' },
  'Image.NotFound': PARAMETER,
  'InstanceType.NotFound': PARAMETER,
  'Instance.NotFound': PARAMETER,
  'Instance.WindowsNotSupported': PARAMETER,
  'Instance.NotIoOptimized': PARAMETER,
  'Instance.IncorrectStatus': PARAMETER,
  'Instance.NotBound': PARAMETER,
  'Instance.AlreadyBound': PARAMETER,
  'Instance.PasswordMalformed': PARAMETER,
  'Instance.NameMalformed': PARAMETER,
  'Instance.QuotaExceeded': PARAMETER,
  'Batch.Empty': PARAMETER,
  'Batch.TooLarge': PARAMETER,
  'Batch.DuplicateIds': PARAMETER,
  'Batch.Malformed': PARAMETER,
  'Task.NotFound': { status: 400, code: 'KPS.0001' },
  'Task.NotFailed': { status: 400, code: 'KPS.0005' },
  // Live failures end up in tasks (task_error_code), not in HTTP answers; mapped for totality.
  'Live.CredentialRequired': PARAMETER,
  'Live.CredentialRejected': PARAMETER,
  'Live.Unreachable': { status: 500, code: 'KPS.0003' },
  'Live.HostKeyChanged': PARAMETER,
  'Live.LockoutRefused': PARAMETER,
  'Binding.ExpiryInvalid': PARAMETER,
  'Binding.NotBound': PARAMETER,
  'Binding.Expired': PARAMETER,
  'Binding.ExpiryNeedsManagementKey': PARAMETER,
  'Instance.LiveOnly': PARAMETER,
  'Instance.GuestFileTooLarge': PARAMETER,
  'Instance.AlreadyRegistered': PARAMETER,
  'Live.VerificationFailed': { status: 500, code: 'KPS.0004' },
  'Live.RemoteError': { status: 500, code: 'KPS.0004' },
  'Live.CredentialLost': { status: 500, code: 'KPS.0003' },
  'Live.Timeout': { status: 500, code: 'KPS.0003' },
  'Live.PartlyApplied': { status: 500, code: 'KPS.0004' },
  'Live.StateUnknown': { status: 500, code: 'KPS.0003' },
  'Auth.Unauthenticated': { status: 401, code: 'APIGW.0301' },
  // API Gateway's throttling refusal ("The throttling threshold has been reached").
  'Auth.Throttled': { status: 429, code: 'APIGW.0308' },
  // Identity management is not part of KPS; mapped for totality (a sign-in to an unknown account is a failed sign-in).
  'Account.NotFound': { status: 401, code: 'APIGW.0301' },
  'Account.AlreadyExists': PARAMETER,
  'User.NotFound': { status: 400, code: 'KPS.0006' },
  'User.AlreadyExists': PARAMETER,
  'User.NameMalformed': PARAMETER,
  'User.PasswordWeak': PARAMETER,
  'AccessKey.NotFound': PARAMETER,
  'AccessKey.Inactive': { status: 401, code: 'APIGW.0301' },
  'AccessKey.LimitExceeded': PARAMETER,
  'Policy.Malformed': PARAMETER,
  'Policy.NotFound': PARAMETER,
  'Policy.AlreadyExists': PARAMETER,
  'Policy.InUse': PARAMETER,
  'Policy.LimitExceeded': PARAMETER,
  'User.PolicyLimitExceeded': PARAMETER,
  'Group.PolicyLimitExceeded': PARAMETER,
  'Group.NotFound': PARAMETER,
  'Group.AlreadyExists': PARAMETER,
  'Webhook.NotFound': PARAMETER,
  'Revocation.NotFound': PARAMETER,
  'Revocation.IncorrectState': PARAMETER,
  'Revocation.KeyUnknown': PARAMETER,
  'Webhook.LimitExceeded': PARAMETER,
  'Rotation.NotFound': PARAMETER,
  'Rotation.IncorrectStatus': PARAMETER,
  'Rotation.NothingToRotate': PARAMETER,
  'Rotation.LimitExceeded': PARAMETER,
  'Auth.Forbidden': { status: 403, code: 'KPS.9003' },
  Internal: { status: 500, code: 'KPS.0004' },
};

/** OpenStack's statuses for the Nova routes (itemNotFound 404, conflict 409, over quota 403). */
const NOVA_STATUS_BY_KIND: Record<ErrorKind, number> = {
  InvalidInput: 400,
  NotFound: 404,
  Conflict: 409,
  Forbidden: 403,
  Unauthenticated: 401,
  LimitExceeded: 403,
  IncorrectState: 409,
  Unavailable: 503,
  Internal: 500,
};

const IAM_AUTH_PREFIX = 'Incorrect IAM authentication information: ';

/** Framework errors become CoreErrors; KPS calls a body of another media type invalid JSON too. */
function toCoreError(err: unknown): CoreError {
  return frameworkCoreError(err, NOT_JSON);
}

export function sendKpsError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  reply.header('X-Request-Id', req.id);
  if (err instanceof KpsFault) return reply.status(err.status).send(body(err.code, err.message, err.gateway, req.id));
  const core = toCoreError(err);
  // API Gateway's throttling answer says when to come back, as the native face's 429 does.
  if (core.code === 'Auth.Throttled') reply.header('retry-after', String(core.details.retryAfterSeconds ?? 1));
  if (core.kind === 'Internal')
    req.log.error(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) },
      'internal error',
    );
  const config = routeConfig(req);
  const wire = config.kpsErrors?.[core.code] ?? KPS_ERRORS[core.code];
  const status = config.novaStatuses ? NOVA_STATUS_BY_KIND[core.kind] : wire.status;
  const gateway = wire.code.startsWith('APIGW.');
  const message =
    wire.code === 'APIGW.0301' && !core.message.startsWith(IAM_AUTH_PREFIX)
      ? IAM_AUTH_PREFIX + core.message
      : core.message;
  return reply.status(status).send(body(wire.code, message, gateway, req.id));
}

function body(code: string, message: string, gateway: boolean, requestId: string) {
  return gateway
    ? { error_code: code, error_msg: message, request_id: requestId }
    : { error_code: code, error_msg: message };
}

/** API Gateway's 401 for a request it cannot authenticate. */
export function authenticationFault(detail: string): KpsFault {
  return new KpsFault(401, 'APIGW.0301', IAM_AUTH_PREFIX + detail, true);
}

/** The caller is authenticated but this project is not theirs to use (KPS.9003 "No operation permission"). */
export function projectFault(message: string): KpsFault {
  return new KpsFault(403, 'KPS.9003', message);
}

/** APIG's answer for a path it does not route. */
export function routeNotFoundFault(method: string, path: string): KpsFault {
  return new KpsFault(
    404,
    'APIGW.0101',
    `The API does not exist or has not been published in the environment: ${method} ${path.slice(0, 200)}`,
    true,
  );
}
