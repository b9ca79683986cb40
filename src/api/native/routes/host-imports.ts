/**
 * Inventory import (ADR 9): the server reads the inventory (readInventory, the parser the console previews with),
 * the core checks every line and makes one task that registers each host; 202 with that task, followed like a
 * bind (GET /tasks/:id, its items with each host's result, the progress stream).
 */
import { CoreError } from '../../../core/errors.js';
import type { NativeApp, NativeContext } from '../context.js';
import { callerOf } from '../context.js';
import { detectInventoryFormat, readInventory } from '../inventory.js';
import { ImportHostsBody, MAX_INVENTORY_CHARS } from '../schemas.js';
import { taskView } from '../views.js';

export function hostImportRoutes(app: NativeApp, { core }: NativeContext) {
  app.post(
    '/hosts/imports',
    {
      schema: {
        body: ImportHostsBody,
        tags: ['instances'],
        summary: `Register every host of an inventory (Ansible-style INI or CSV) as one task; a bad line refuses the whole inventory and every bad line is listed. At most ${MAX_INVENTORY_CHARS} characters and 1000 hosts. Returns the task (202).`,
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (b.inventory.length > MAX_INVENTORY_CHARS)
        throw new CoreError(
          'Input.TooLarge',
          `The inventory is ${b.inventory.length} characters; at most ${MAX_INVENTORY_CHARS} are accepted.`,
          { limit: MAX_INVENTORY_CHARS },
        );
      const format = b.format === 'ini' || b.format === 'csv' ? b.format : detectInventoryFormat(b.inventory);
      const task = await core.hosts.importInventory(callerOf(req), {
        regionId: b.regionId,
        rows: readInventory(b.inventory, format),
        managementPrivateKey: b.managementPrivateKey,
        defaults: b.defaults,
      });
      return reply.status(202).send({ task: taskView(task), format });
    },
  );
}
