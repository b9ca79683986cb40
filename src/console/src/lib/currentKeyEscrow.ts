/**
 * Which credential a live bind that replaces key pairs (or a live unbind) can do without. Sent with no credential,
 * keyfleet logs in to each running machine with the escrowed private key of the key pair that machine accepts now
 * (a registered host's management key first); a machine whose key pair's private key is not kept, or that has no
 * key pair, fails with Live.CredentialRequired. The console says so per key pair before anything is sent, from the
 * instances' key pairs and each key pair's `privateKeyEscrowed`.
 */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Instance } from '../api/types';

/** Key pairs looked up at once (a selection may span many). */
const LOOKUP_CONCURRENCY = 8;

/** The instances the selection has on one current key pair (null: none bound). */
export interface CurrentKeyGroup {
  keyPairName: string | null;
  /** Whether keyfleet keeps that key pair's private key; null while unknown (loading, or it could not be read). */
  escrowed: boolean | null;
  instances: Instance[];
}

/** An instance that would fail if no credential were sent, and why. */
export interface WouldFail {
  instance: Instance;
  why: string;
}

export interface CurrentKeyEscrow {
  loading: boolean;
  groups: CurrentKeyGroup[];
  /** Names of the current key pairs whose private key is kept: what "log in with the escrowed key" uses. */
  escrowedNames: string[];
  /** Running instances that no held key reaches: they need a credential sent with the request. */
  wouldFail: WouldFail[];
  /** Running instances whose key pair change waits for a restart: the machine still has an earlier key. */
  uncertain: Instance[];
}

/** Registered hosts whose management key keyfleet holds log in with it; no credential is needed. */
const heldManagementKey = (i: Instance) => i.backend === 'host' && !!i.host?.hasManagementKey;

/** Only a running machine is logged in to; a stopped one takes the change at its next start. */
const loggedInTo = (i: Instance) => i.status === 'Running' && !heldManagementKey(i);

export function classify(instances: Instance[], escrow: ReadonlyMap<string, boolean | null>): CurrentKeyEscrow {
  const byName = new Map<string | null, Instance[]>();
  for (const i of instances) {
    const list = byName.get(i.keyPairName);
    if (list) list.push(i);
    else byName.set(i.keyPairName, [i]);
  }
  const groups: CurrentKeyGroup[] = [...byName].map(([keyPairName, list]) => ({
    keyPairName,
    escrowed: keyPairName === null ? false : (escrow.get(keyPairName) ?? null),
    instances: list,
  }));
  const wouldFail: WouldFail[] = [];
  const uncertain: Instance[] = [];
  for (const i of instances) {
    if (!loggedInTo(i)) continue;
    if (i.pendingChanges?.keyPair) {
      uncertain.push(i);
      continue;
    }
    if (i.keyPairName === null)
      wouldFail.push({ instance: i, why: 'it has no key pair, so keyfleet keeps no key for it' });
    else if (escrow.get(i.keyPairName) === false)
      wouldFail.push({ instance: i, why: `keyfleet does not keep the private key of ${i.keyPairName}` });
  }
  return {
    loading: groups.some((g) => g.keyPairName !== null && !escrow.has(g.keyPairName)),
    groups,
    // A key pair counts where some machine still accepts it: not where every one waits for a change at its restart.
    escrowedNames: groups
      .filter((g) => g.escrowed === true && g.instances.some((i) => !i.pendingChanges?.keyPair))
      .map((g) => g.keyPairName!),
    wouldFail,
    uncertain,
  };
}

/** Reads whether each current key pair of `instances` is escrowed (each name once) and classifies them. */
export function useCurrentKeyEscrow(regionId: string, instances: Instance[], enabled: boolean): CurrentKeyEscrow {
  const [escrow, setEscrow] = useState<ReadonlyMap<string, boolean | null>>(new Map());
  /** Names asked for already (answered or not), so a re-render or a new selection does not ask again. */
  const asked = useRef(new Set<string>());
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const missing = enabled
    ? [...new Set(instances.map((i) => i.keyPairName))].filter((n): n is string => n !== null && !asked.current.has(n))
    : [];
  const missingKey = missing.join('\n');

  // biome-ignore lint/correctness/useExhaustiveDependencies: missingKey stands for the names not asked for yet
  useEffect(() => {
    if (missing.length === 0) return;
    for (const n of missing) asked.current.add(n);
    void (async () => {
      for (let k = 0; k < missing.length; k += LOOKUP_CONCURRENCY) {
        const found = await Promise.all(
          missing.slice(k, k + LOOKUP_CONCURRENCY).map((n) =>
            api.keyPair(regionId, n).then(
              (d) => [n, d.keyPair.privateKeyEscrowed] as const,
              // Unknown, not "not kept": the dialog then claims nothing about it.
              () => [n, null] as const,
            ),
          ),
        );
        if (!mounted.current) return;
        setEscrow((m) => new Map([...m, ...found]));
      }
    })();
  }, [regionId, missingKey]);

  return classify(instances, escrow);
}

/** "rep-a", "rep-a or rep-c", "rep-a, rep-c or 3 more key pairs": the radio's words for the held keys. */
export function escrowedKeyPairsLabel(names: string[]): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1) return names[0];
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `${names.slice(0, 2).join(', ')} or ${names.length - 2} more key pairs`;
}
