/**
 * Wiring of events: the endpoints' service, the dispatcher (started only when a sender is given) and the hook a
 * drift scan calls. The other causes write their events themselves, in their own transactions (the task runner
 * when a task finishes, the boot prover when a proof fails), through `tx.outbox.publish`.
 */
import type { Clock, IdGen } from '../clock.js';
import type { Logger, SecretBox, Store } from '../ports.js';
import { createDispatcher, DEFAULT_DISPATCHER_SETTINGS, type DispatcherSettings } from './dispatcher.js';
import { driftFoundEvent } from './event.js';
import type { WebhookSender } from './outbox.js';
import { createWebhookService } from './webhook-service.js';

/** Operator settings (KEYFLEET_WEBHOOK_*); each absent one takes its default (dispatcher.ts). */
export type WebhookSettings = Partial<Omit<DispatcherSettings, 'owner' | 'singleWriter'>> & {
  /** Where endpoints may point (CIDRs); absent or empty: anywhere. */
  networks?: readonly string[];
};

export interface EventsModuleDeps {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
  ids: IdGen;
  logger: Logger;
  owner: string;
  singleWriter: boolean;
  /** Posts deliveries; absent: events are written to the outbox but this process sends none. */
  sender?: WebhookSender;
  settings?: WebhookSettings;
}

/** What a drift scan result says, as far as the event needs it. */
interface ScannedHost {
  instanceId: string;
  name: string;
  keyPairName: string | null;
  status: string;
  findings: readonly unknown[];
}

export function createEventsModule(deps: EventsModuleDeps) {
  const { store, clock, logger } = deps;
  const { networks, ...dispatch } = deps.settings ?? {};
  const service = createWebhookService({ ...deps, networks });
  const dispatcher = deps.sender
    ? createDispatcher({
        ...deps,
        sender: deps.sender,
        settings: {
          ...DEFAULT_DISPATCHER_SETTINGS,
          ...Object.fromEntries(Object.entries(dispatch).filter(([, v]) => v !== undefined)),
          owner: deps.owner,
          singleWriter: deps.singleWriter,
        },
      })
    : null;

  return {
    service,
    dispatcher,
    /** Writes a drift.found event when a scan found drifted machines (a scan changes nothing else). */
    async driftScanned(accountId: string, regionId: string, results: readonly ScannedHost[]): Promise<void> {
      const drifted = results
        .filter((r) => r.status === 'drifted')
        .map((r) => ({
          instanceId: r.instanceId,
          name: r.name,
          keyPairName: r.keyPairName,
          findings: r.findings.length,
        }));
      if (drifted.length === 0) return;
      try {
        await store.outbox.publish(driftFoundEvent(accountId, regionId, results.length, drifted, clock.now()));
      } catch (err) {
        // The scan's answer stands; the event is lost (a scan is a read, repeated by whoever asked for it).
        logger.warn('drift.found event not written', { error: err instanceof Error ? err.message : String(err) });
      }
    },
    start: async (): Promise<void> => dispatcher?.start(),
    close: async (): Promise<void> => dispatcher?.close(),
  };
}

export type EventsModule = ReturnType<typeof createEventsModule>;
