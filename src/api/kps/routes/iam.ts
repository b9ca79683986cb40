/**
 * The IAM calls a Huawei client needs before it can call KPS (API.md §7, SDK-TRAFFIC.md §3):
 * - POST /v3/auth/tokens: password identity, project scope; 201, token in X-Subject-Token, Keystone-like body.
 *   The IAM SDK signs this call with AK/SK too (capture 28); the password is the credential, so it is public here.
 * - GET /v3/projects[?name=<region>]: one project per region of the account. The SDKs resolve a region's project id
 *   here and expect exactly one answer, else they try to create one (capture 07).
 * - GET /v3/auth/projects, GET /v3/auth/domains: the same lists as Keystone's "what can this credential use" calls;
 *   GlobalCredentials without a domain id look the domain up with the latter.
 */
import type { FastifyRequest } from 'fastify';
import { callerOf, type KpsApp, type KpsContext, type KpsRouteConfig } from '../context.js';
import { issueToken } from '../iam-token.js';
import { domainIdOf, type Project, projectsOf, stableHexId } from '../projects.js';
import { ProjectsQuery, TokenBody, TokenQuery } from '../schemas.js';

const PUBLIC: KpsRouteConfig = { kpsAuth: 'public' };
const ACCOUNT: KpsRouteConfig = { kpsAuth: 'account' };

export function iamRoutes(app: KpsApp, { core }: KpsContext) {
  app.post(
    '/auth/tokens',
    { schema: { body: TokenBody, querystring: TokenQuery }, config: PUBLIC },
    async (req, reply) => {
      const issued = await issueToken(core, req.body.auth, { face: 'kps', sourceIp: req.ip, requestId: req.id });
      const { caller, project } = issued;
      const account = await core.accounts.account(caller);
      const domain = { id: domainIdOf(caller.accountId), name: account.name };
      const base = baseUrl(req);
      reply.header('X-Subject-Token', issued.token).header('cache-control', 'no-store');
      return reply.status(201).send({
        token: {
          expires_at: issued.expiresAt.toISOString(),
          issued_at: new Date().toISOString(),
          methods: ['password'],
          ...(req.query.nocatalog === 'true' ? {} : { catalog: catalogOf(base, project) }),
          project: { id: project.id, name: project.region.id, domain },
          user: { id: caller.userId, name: caller.userName, domain, password_expires_at: '' },
          roles: caller.isAccountAdmin ? [{ id: stableHexId('role:te_admin'), name: 'te_admin' }] : [],
        },
      });
    },
  );

  const listProjects = (req: FastifyRequest, { name, domain_id }: { name?: string; domain_id?: string }) => {
    const caller = callerOf(req);
    const domainId = domainIdOf(caller.accountId);
    const base = baseUrl(req);
    const projects = projectsOf(caller.accountId, core.regions)
      .filter((p) => name === undefined || p.region.id === name)
      .filter(() => domain_id === undefined || domain_id === domainId);
    return {
      projects: projects.map((p) => ({
        id: p.id,
        name: p.region.id,
        domain_id: domainId,
        enabled: true,
        is_domain: false,
        parent_id: domainId,
        description: p.region.localName,
        links: { self: `${base}/v3/projects/${p.id}` },
      })),
      links: { self: `${base}/v3/projects`, previous: null, next: null },
    };
  };
  app.get('/projects', { schema: { querystring: ProjectsQuery }, config: ACCOUNT }, async (req) =>
    listProjects(req, req.query),
  );
  app.get('/auth/projects', { schema: { querystring: ProjectsQuery }, config: ACCOUNT }, async (req) =>
    listProjects(req, req.query),
  );

  app.get('/auth/domains', { config: ACCOUNT }, async (req) => {
    const caller = callerOf(req);
    const account = await core.accounts.account(caller);
    const id = domainIdOf(caller.accountId);
    const base = baseUrl(req);
    return {
      domains: [
        { id, name: account.name, enabled: true, description: '', links: { self: `${base}/v3/domains/${id}` } },
      ],
      links: { self: `${base}/v3/auth/domains` },
    };
  });
}

/** This server as the client reached it: the catalog and links point back here. */
function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/** KPS is served from the KMS endpoint and Nova from ECS (API.md §1, §9); both are this server. */
function catalogOf(base: string, project: Project) {
  const service = (type: string, name: string, url: string) => ({
    id: stableHexId(`service:${type}`),
    type,
    name,
    endpoints: [
      {
        id: stableHexId(`endpoint:${project.id}:${type}`),
        interface: 'public',
        region: project.region.id,
        region_id: project.region.id,
        url,
      },
    ],
  });
  return [
    service('kms', 'kms', base),
    service('ecs', 'ecs', base),
    service('compute', 'nova', `${base}/v2.1/${project.id}`),
  ];
}
