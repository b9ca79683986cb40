import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { DriftRepairBody, DriftScanBody, RegionParams } from '../schemas.js';
import { driftResultView, taskView } from '../views.js';

export function driftRoutes(app: NativeApp, { core, maxBatch }: NativeContext) {
  app.post(
    '/regions/:regionId/drift-scans',
    {
      schema: {
        params: RegionParams,
        body: DriftScanBody,
        tags: ['drift'],
        summary:
          "Read registered hosts' authorized_keys and sshd drop-in with their management keys and compare them with what keyfleet bound: a result per host (in-sync, drifted, unreachable, error, skipped) with findings and every key keyfleet did not write. Without instanceIds: every registered host of the region. Writes nothing.",
      },
    },
    async (req) => {
      const results = await core.drift.scan(callerOf(req), {
        regionId: req.params.regionId,
        instanceIds: req.body.instanceIds,
        maxBatch,
      });
      return { results: results.map(driftResultView) };
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
          "Scan the hosts given and restore keyfleet's block and drop-in on the drifted ones: one live bind task per key pair (an unbind task for hosts without one). Hand-added lines are kept. Returns the tasks and the scan they act on.",
      },
    },
    async (req, reply) => {
      const r = await core.drift.repair(callerOf(req), {
        regionId: req.params.regionId,
        instanceIds: req.body.instanceIds,
        maxBatch,
      });
      return reply
        .status(r.tasks.length > 0 ? 202 : 200)
        .send({ tasks: r.tasks.map(taskView), results: r.results.map(driftResultView) });
    },
  );
}
