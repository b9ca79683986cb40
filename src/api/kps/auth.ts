/**
 * Who is calling, and on which project. Two credentials, as API.md §1 says every Huawei client uses:
 * - `X-Auth-Token`: a token from POST /v3/auth/tokens, scoped to one project (region); refused on any other.
 * - AK/SK `SDK-HMAC-SHA256`: verified over the signed-header list of each request, the raw body and ±15 minutes of
 *   clock skew (signature/ holds the rules and the reasons; docs/api/huawei-kps.md).
 * The path's project must be one of the caller's account; another account's project is answered exactly like one
 * that does not exist.
 *
 * - A mutating AK/SK request (any method but GET and HEAD, except the POSTs that only read: private key export, the tag filter) is accepted once: the scheme has no nonce, so its
 *   signature is recorded in the store until its X-Sdk-Date is stale, and a replay is refused by every process
 *   sharing the store, also after a restart (issue 17; docs/api/huawei-kps.md, "Deviations").
 *
 * Runs as a preValidation hook: after the body was read (it is part of the signature) and before schemas look at it.
 */
import type { FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import type { Region } from '../../core/region.js';
import { type KpsContext, type Principal, routeConfig, setPrincipal, setProject } from './context.js';
import { authenticationFault, KpsFault, projectFault } from './errors.js';
import { findProject, type Project, projectIdOf } from './projects.js';
import { rawBodyOf, readUnparsedBody, refuseInvalidJson } from './raw-body.js';
import { type IncomingSignedRequest, parseSignedRequest } from './signature/parse.js';
import { replayedSignatureProblem, type SignatureProblem, unknownAccessKeyProblem } from './signature/problems.js';
import { checkFreshness, DEFAULT_MAX_SKEW_MS, verifySignature } from './signature/verify.js';

export function authenticationHook(ctx: KpsContext) {
  return async (req: FastifyRequest): Promise<void> => {
    await readUnparsedBody(req);
    const mode = routeConfig(req).kpsAuth;
    if (mode === undefined) return; // no such route: the 404 handler answers
    if (mode === 'account' || mode === 'project') {
      const principal = await identify(req, ctx.core);
      setPrincipal(req, principal);
      if (mode === 'project') {
        const projectId = (req.params as { project_id?: string }).project_id ?? '';
        setProject(req, scopeOf(principal, projectId, ctx.core.regions));
      }
    }
    refuseInvalidJson(req);
  };
}

async function identify(req: FastifyRequest, core: Core): Promise<Principal> {
  const requestContext = { face: 'kps' as const, sourceIp: req.ip, requestId: req.id };
  const token = req.headers['x-auth-token'];
  if (token !== undefined) {
    if (typeof token !== 'string') throw authenticationFault('more than one X-Auth-Token header');
    const resolved = await core.accounts.resolveToken(token.trim(), requestContext);
    if (!resolved) throw authenticationFault('the token is invalid or has expired');
    return { caller: resolved.caller, via: 'token', tokenRegionId: resolved.regionId, signedProjectId: null };
  }

  const url = req.raw.url ?? req.url;
  const q = url.indexOf('?');
  const incoming: IncomingSignedRequest = {
    method: req.method,
    rawPath: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    rawBody: rawBodyOf(req),
  };
  const parsed = parseSignedRequest(incoming);
  if (!parsed.ok) throw gatewayFault(parsed.problem);
  const key = await core.accounts.resolveAccessKey(parsed.info.accessKeyId, requestContext);
  if (!key) throw gatewayFault(unknownAccessKeyProblem(parsed.info.accessKeyId));
  const verified = verifySignature(incoming, parsed.info, key.secret);
  if (!verified.ok) throw gatewayFault(verified.problem);
  const fresh = checkFreshness(parsed.info, new Date());
  if (!fresh.ok) throw gatewayFault(fresh.problem);
  if (!key.active) throw authenticationFault(`the access key ${parsed.info.accessKeyId} is disabled`);
  // The SDKs send UNSIGNED-PAYLOAD only for non-JSON uploads; every KPS body is JSON and must be covered.
  if (!verified.payloadSigned && incoming.rawBody.length > 0) {
    throw authenticationFault(
      'the request body must be signed (x-sdk-content-sha256: UNSIGNED-PAYLOAD is not accepted here)',
    );
  }
  // Recorded only for requests that verified, are fresh and whose key is active: forgeries burn nothing.
  if (changesSomething(req)) {
    const staleAt = new Date(parsed.info.sdkDate.getTime() + DEFAULT_MAX_SKEW_MS);
    if (!(await core.accounts.firstUse('kps-signature', parsed.info.accessKeyId, parsed.info.signature, staleAt))) {
      throw gatewayFault(replayedSignatureProblem());
    }
  }
  return { caller: key.caller, via: 'aksk', tokenRegionId: null, signedProjectId: parsed.info.projectId ?? null };
}

/** Reads: a replay of one changes nothing, so it is not refused (the SDKs' retries of reads keep working). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD']);

/**
 * KPS reads that are POSTs (their parameters are a body): exporting escrowed private keys and filtering key pairs
 * by tags change nothing.
 */
const READS_BY_POST = [
  '/keypairs/private-key/export',
  '/keypairs/private-key/batch-export',
  '/keypairs/resource-instances/filter',
  '/keypairs/resource-instances/count',
  '/keypairs/resource_instances/filter',
  '/keypairs/resource_instances/count',
];

function changesSomething(req: FastifyRequest): boolean {
  if (IDEMPOTENT_METHODS.has(req.method)) return false;
  const route = req.routeOptions?.url ?? '';
  return !READS_BY_POST.some((suffix) => route.endsWith(suffix));
}

function gatewayFault(problem: SignatureProblem): KpsFault {
  return new KpsFault(problem.httpStatus, problem.code, problem.message, true);
}

function scopeOf(principal: Principal, projectId: string, regions: readonly Region[]): Project {
  const accountId = principal.caller.accountId;
  const project = findProject(accountId, regions, projectId);
  if (!project)
    throw projectFault(`The project '${shown(projectId)}' does not exist or is not accessible with these credentials.`);
  if (principal.signedProjectId !== null && principal.signedProjectId !== project.id) {
    throw projectFault(
      `X-Project-Id '${shown(principal.signedProjectId)}' does not match the project '${project.id}' of the path.`,
    );
  }
  if (principal.via === 'token') {
    if (principal.tokenRegionId === null) {
      throw projectFault(
        'The token is not scoped to a project; ask POST /v3/auth/tokens for a token with auth.scope.project.',
      );
    }
    if (principal.tokenRegionId !== project.region.id) {
      const scoped = projectIdOf(accountId, principal.tokenRegionId);
      throw projectFault(
        `The token is scoped to project '${scoped}' (${principal.tokenRegionId}); it cannot be used on project '${project.id}'.`,
      );
    }
  }
  return project;
}

/** An identifier from the request, echoed bounded and on one line. */
function shown(value: string): string {
  return value.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
}
