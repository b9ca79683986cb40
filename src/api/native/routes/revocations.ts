/**
 * Revocations (issue 19): plan (POST …/revocations), read the plan and its machines, apply, and export the report
 * as JSON or CSV. Every input is bounded here by schema and again by the core.
 */
import { Type } from 'typebox';
import type { RevocationMachine } from '../../../core/revocation/revocation.js';
import { REVOCATION_LIMITS } from '../../../core/revocation/revocation.js';
import type { Caller } from '../../../core/caller.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { reportCsv, revocationMachineView, revocationView } from '../revocation-views.js';
import { BoundedInteger, CredentialSchema, IdParams, RegionParams } from '../schemas.js';

const PlanBody = Type.Object(
  {
    keyPairName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: REVOCATION_LIMITS.fingerprintChars })),
    publicKey: Type.Optional(Type.String({ minLength: 1, maxLength: REVOCATION_LIMITS.publicKeyChars })),
  },
  { additionalProperties: false },
);

const ApplyBody = Type.Object(
  {
    includeUnmanaged: Type.Optional(Type.Boolean()),
    retryUntil: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    retryForSeconds: Type.Optional(BoundedInteger({ minimum: 1, maximum: REVOCATION_LIMITS.maxRetryMs / 1000 })),
    credential: Type.Optional(CredentialSchema),
  },
  { additionalProperties: false },
);

const MachinesQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 16 })),
    offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: REVOCATION_LIMITS.machines })),
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: REVOCATION_LIMITS.pageSize })),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  {
    offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: 1_000_000 })),
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

const ReportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
  { additionalProperties: false },
);

export function revocationRoutes(app: NativeApp, { core }: NativeContext) {
  /** Every machine of the report, page by page (a revocation covers at most REVOCATION_LIMITS.machines). */
  async function allMachines(caller: Caller, id: string) {
    const machines: RevocationMachine[] = [];
    for (let offset = 0; ; offset += REVOCATION_LIMITS.pageSize) {
      const page = await core.revocations.machines(caller, id, { offset, limit: REVOCATION_LIMITS.pageSize });
      machines.push(...page.items);
      if (page.items.length < REVOCATION_LIMITS.pageSize) return { revocation: page.revocation, machines };
    }
  }

  app.post(
    '/regions/:regionId/revocations',
    {
      schema: {
        params: RegionParams,
        body: PlanBody,
        tags: ['revocations'],
        summary:
          "Plan a revocation of one key (by keyPairName, fingerprint — SHA256:… or MD5:… — or a pasted publicKey, which may be a key keyfleet never bound): every registered host and simulated instance of the region is read (the managed user's and root's authorized_keys) and the plan records where the key is bound and each line that authorises it, inside keyfleet's block or outside. Changes nothing; apply it with POST /revocations/{id}/apply.",
      },
    },
    async (req, reply) => {
      const { revocation } = await core.revocations.plan(callerOf(req), { regionId: req.params.regionId, ...req.body });
      return reply.status(201).send({ revocation: revocationView(revocation) });
    },
  );

  app.get(
    '/regions/:regionId/revocations',
    { schema: { params: RegionParams, querystring: ListQuery, tags: ['revocations'] } },
    async (req) => {
      const page = await core.revocations.list(callerOf(req), {
        regionId: req.params.regionId,
        ...(req.query.offset !== undefined ? { offset: req.query.offset } : {}),
        ...(req.query.limit !== undefined ? { limit: req.query.limit } : {}),
      });
      return { revocations: page.items.map(revocationView), total: page.total };
    },
  );

  app.get('/revocations/:id', { schema: { params: IdParams, tags: ['revocations'] } }, async (req) => {
    return { revocation: revocationView(await core.revocations.get(callerOf(req), req.params.id)) };
  });

  app.get(
    '/revocations/:id/machines',
    {
      schema: {
        params: IdParams,
        querystring: MachinesQuery,
        tags: ['revocations'],
        summary: `The plan or report, one page of machines (at most ${REVOCATION_LIMITS.pageSize}), optionally of one state.`,
      },
    },
    async (req) => {
      const page = await core.revocations.machines(callerOf(req), req.params.id, req.query);
      return {
        revocation: revocationView(page.revocation),
        machines: page.items.map((m) => revocationMachineView(m, page.revocation)),
        total: page.total,
      };
    },
  );

  app.post(
    '/revocations/:id/apply',
    {
      schema: {
        params: IdParams,
        body: ApplyBody,
        tags: ['revocations'],
        summary:
          "Apply a planned revocation: a live unbind (through the task path) wherever the key is bound; with includeUnmanaged, the lines outside keyfleet's block that authorise it are removed (atomic write, every other line kept byte for byte); each machine is then asked by a publickey query whether it still accepts the key. Unreachable machines are retried until retryUntil (or retryForSeconds; default 24 h). A running simulated instance where the key is bound needs `credential`.",
      },
    },
    async (req, reply) => {
      const { revocation } = await core.revocations.apply(callerOf(req), { revocationId: req.params.id, ...req.body });
      return reply.status(202).send({ revocation: revocationView(revocation) });
    },
  );

  app.get(
    '/revocations/:id/report',
    {
      schema: {
        params: IdParams,
        querystring: ReportQuery,
        tags: ['revocations'],
        summary:
          'The whole report, every machine: `refused (verified at …)`, `unreachable (retrying until …)` or `failed (why)`; format=csv for a spreadsheet (text/csv), json by default.',
      },
    },
    async (req, reply) => {
      const { revocation, machines } = await allMachines(callerOf(req), req.params.id);
      if (req.query.format === 'csv')
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="revocation-${revocation.id}.csv"`)
          .send(reportCsv(revocation, machines));
      return {
        revocation: revocationView(revocation),
        machines: machines.map((m) => revocationMachineView(m, revocation)),
      };
    },
  );
}
