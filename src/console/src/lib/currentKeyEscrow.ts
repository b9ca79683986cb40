/**
 * Which credential a live bind that replaces key pairs (or a live unbind) can do without. Sent with no credential,
 * keyfleet logs in to each running machine with the escrowed private key of the key pair that machine accepts now
 * (a registered host's management key first); a machine whose key pair's private key is not kept, or that has no
 * key pair, fails with Live.CredentialRequired. The console says so per key pair before anything is sent, from the
 * instances' key pairs and each key pair's `privateKeyEscrowed`.
 */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Instance, KeyPair } from '../api/types';
import { derivePublicKey, privateKeyMismatch } from './privateKey';

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
  /** The key pairs that running instances accept now (read so far): what a private key given must belong to. */
  loginKeyPairs: KeyPair[];
}

/** Registered hosts whose management key keyfleet holds log in with it; no credential is needed. */
const heldManagementKey = (i: Instance) => i.backend === 'host' && !!i.host?.hasManagementKey;

/** Only a running machine is logged in to; a stopped one takes the change at its next start. */
const loggedInTo = (i: Instance) => i.status === 'Running' && !heldManagementKey(i);

/** Key pairs by name: the key pair, or null while it could not be read. */
type KeyPairsByName = ReadonlyMap<string, KeyPair | null>;

export function classify(instances: Instance[], keyPairs: KeyPairsByName): CurrentKeyEscrow {
  const escrowed = (name: string): boolean | null => {
    const kp = keyPairs.get(name);
    return kp ? kp.privateKeyEscrowed : null;
  };
  const byName = new Map<string | null, Instance[]>();
  for (const i of instances) {
    const list = byName.get(i.keyPairName);
    if (list) list.push(i);
    else byName.set(i.keyPairName, [i]);
  }
  const groups: CurrentKeyGroup[] = [...byName].map(([keyPairName, list]) => ({
    keyPairName,
    escrowed: keyPairName === null ? false : escrowed(keyPairName),
    instances: list,
  }));
  const wouldFail: WouldFail[] = [];
  const uncertain: Instance[] = [];
  const login = new Map<string, KeyPair>();
  for (const i of instances) {
    if (!loggedInTo(i)) continue;
    if (i.pendingChanges?.keyPair) {
      uncertain.push(i);
      continue;
    }
    const kp = i.keyPairName === null ? null : keyPairs.get(i.keyPairName);
    if (kp) login.set(kp.name, kp);
    if (i.keyPairName === null)
      wouldFail.push({ instance: i, why: 'it has no key pair, so keyfleet keeps no key for it' });
    else if (kp?.privateKeyEscrowed === false)
      wouldFail.push({ instance: i, why: `keyfleet does not keep the private key of ${i.keyPairName}` });
  }
  return {
    loading: groups.some((g) => g.keyPairName !== null && !keyPairs.has(g.keyPairName)),
    groups,
    // A key pair counts where some machine still accepts it: not where every one waits for a change at its restart.
    escrowedNames: groups
      .filter((g) => g.escrowed === true && g.instances.some((i) => !i.pendingChanges?.keyPair))
      .map((g) => g.keyPairName!),
    wouldFail,
    uncertain,
    loginKeyPairs: [...login.values()],
  };
}

/** Reads each current key pair of `instances` (each name once) and classifies them. */
export function useCurrentKeyEscrow(regionId: string, instances: Instance[], enabled: boolean): CurrentKeyEscrow {
  const [keyPairs, setKeyPairs] = useState<KeyPairsByName>(new Map());
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
              (d) => [n, d.keyPair] as const,
              // Unknown, not "not kept": the dialog then claims nothing about it.
              () => [n, null] as const,
            ),
          ),
        );
        if (!mounted.current) return;
        setKeyPairs((m) => new Map([...m, ...found]));
      }
    })();
  }, [regionId, missingKey]);

  return classify(instances, keyPairs);
}

/** "rep-a", "rep-a or rep-c", "rep-a, rep-c or 3 more key pairs": the radio's words for the held keys. */
export function escrowedKeyPairsLabel(names: string[]): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1) return names[0];
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `${names.slice(0, 2).join(', ')} or ${names.length - 2} more key pairs`;
}

/**
 * Why a private key given for a live replace cannot log in to the instances chosen, checked in the browser before
 * it is sent: it must be the private key of a key pair they accept now. Null when it matches one (or cannot be read
 * here, and the server decides).
 */
export async function replaceKeyMismatch(privateKey: string, loginKeyPairs: KeyPair[]): Promise<string | null> {
  if (loginKeyPairs.length === 0) return null;
  if (loginKeyPairs.length === 1) return privateKeyMismatch(privateKey, loginKeyPairs[0]!);
  const derived = await derivePublicKey(privateKey);
  if (derived.kind === 'inconsistent')
    return 'This private key file is damaged: its private and public parts do not belong together.';
  if (derived.kind === 'unknown' || loginKeyPairs.some((k) => k.fingerprintSha256 === derived.fingerprintSha256))
    return null;
  const names = loginKeyPairs.map((k) => k.name).join(', ');
  return `This private key (${derived.fingerprintSha256}) belongs to none of the key pairs these instances have now (${names}). Give the private key of one of them; it logs in only where its key pair is bound.`;
}
