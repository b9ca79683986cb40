/**
 * Webhook endpoints as faces call them. They are for account administrators: an endpoint receives the events of
 * the whole account (every task, every drift finding), more than any one user's policies may let them see, and
 * it makes keyfleet send requests to an address of the caller's choosing.
 */
import type { ResourceRef } from '../authz/actions.js';
import { useCase } from '../usecase/use-case.js';
import type { WebhookService } from './webhook-service.js';

const webhook = (id: unknown): ResourceRef => ({ type: '*', regionId: '*', id: `webhook/${String(id)}` });

export function webhookUseCases(svc: WebhookService) {
  return {
    list: useCase({
      action: 'webhook:List',
      access: 'admin',
      mutates: false,
      run: svc.list,
      names: () => [webhook('*')],
    }),
    get: useCase({
      action: 'webhook:Get',
      access: 'admin',
      mutates: false,
      run: svc.get,
      names: (_c, id) => [webhook(id)],
    }),
    create: useCase({
      action: 'webhook:Create',
      access: 'admin',
      mutates: true,
      run: svc.create,
      names: () => [],
      namesAfter: (r) => [webhook(r.webhook.id)],
    }),
    update: useCase({
      action: 'webhook:Update',
      access: 'admin',
      mutates: true,
      run: svc.update,
      names: (_c, id) => [webhook(id)],
    }),
    delete: useCase({
      action: 'webhook:Delete',
      access: 'admin',
      mutates: true,
      run: svc.delete,
      names: (_c, id) => [webhook(id)],
    }),
    rotateSecret: useCase({
      action: 'webhook:RotateSecret',
      access: 'admin',
      mutates: true,
      run: svc.rotateSecret,
      names: (_c, id) => [webhook(id)],
    }),
    deliveries: useCase({
      action: 'webhook:ListDeliveries',
      access: 'admin',
      mutates: false,
      run: svc.deliveries,
      names: (_c, id) => [webhook(id)],
    }),
  };
}
