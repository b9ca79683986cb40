import { Type } from 'typebox';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { CredentialSchema, DriftScanBody, RegionParams } from '../schemas.js';
import type { HostDriftResult } from '../../../core/binding/drift-service.js';
import { driftResultView, taskView } from '../views.js';

/** The result as views.ts shows it, with the machine's backend: a console asks for a credential for 'sim' ones. */
const resultView = (r: HostDriftResult) => ({ ...driftResultView(r), backend: r.backend });

/**
 * Ids are checked by the core (format, duplicates, batch size), as for bindings. The credential logs in to drifted
 * simulated instances (they have no management key); registered hosts never see it.
 */
const DriftRepairBody = Type.Object(
  { instanceIds: Type.Array(Type.Unknown(), { maxItems: 100_000 }), credential: Type.Optional(CredentialSchema) },
  { additionalProperties: false },
);

export function driftRoutes(app: NativeApp, { core, maxBatch }: NativeContext) {
  app.post(
    '/regions/:regionId/drift-scans',
    {
      schema: {
        params: RegionParams,
        body: DriftScanBody,
        tags: ['drift'],
        summary:
          "Read authorized_keys and keyfleet's sshd drop-in of registered hosts (over SSH, with their management keys) and simulated instances (from their disks) and compare them with what keyfleet wrote: a result per machine (in-sync, drifted, unreachable, error, skipped) with findings (a key inside keyfleet's block that keyfleet did not put there is one, with its SHA256 fingerprint) and every key keyfleet did not write. Without instanceIds: every registered host and simulated instance of the region. Writes nothing.",
      },
    },
    async (req) => {
      const results = await core.drift.scan(callerOf(req), {
        regionId: req.params.regionId,
        instanceIds: req.body.instanceIds,
        maxBatch,
      });
      return { results: results.map(resultView) };
    },
  );

  app.post(
    '/regions/:regionId/drift-repairs',
    {
      schema: {
        params: RegionParams,
        body: DriftRepairBody,
        tags: ['drift'],
        summary:
          "Scan the machines given and restore keyfleet's block and drop-in on the drifted ones: one live bind task per key pair (an unbind task for machines without one), hosts and simulated instances in separate tasks. keyfleet's block is rewritten whole, so a key found inside it that keyfleet did not put there is removed; lines outside the block are kept. Hosts log in with their management keys; drifted simulated instances need `credential` (the bound key pair's private key, or the root password where none is bound), else 400 Live.CredentialRequired and nothing is submitted. Returns the tasks and the scan they act on.",
      },
    },
    async (req, reply) => {
      const r = await core.drift.repair(callerOf(req), {
        regionId: req.params.regionId,
        instanceIds: req.body.instanceIds,
        maxBatch,
        ...(req.body.credential ? { credential: req.body.credential } : {}),
      });
      return reply
        .status(r.tasks.length > 0 ? 202 : 200)
        .send({ tasks: r.tasks.map(taskView), results: r.results.map(resultView) });
    },
  );
}
