/**
 * From an associate/disassociate body to a core bind request (API.md §4.1, §4.3, §4.4). Every KPS binding is a live
 * change through the task model: keyfleet logs in to the server with the credential of the request and edits only
 * its own block of authorized_keys; a Stopped server records the change for its next start. The credential is
 * handed to the core, which keeps it sealed for that task's lifetime only (ADR 3).
 *
 *   server.auth              flavour   KPS operation
 *   (none)                   reset     RESET   (Stopped servers; a Running one logs in with the hosted private key
 *                                               of the key pair it has now, else fails Live.CredentialRequired)
 *   type=password, key=root  bind      RESET   (KPS has no BIND state)
 *   type=keypair,  key=PEM   replace   REPLACE (the private key of the key pair bound now)
 *   disassociate             unbind    UNBIND
 */
import type { Static } from 'typebox';
import { CoreError } from '../../core/errors.js';
import type { BindRequest } from '../../core/binding/bind-request.js';
import type { LiveCredential } from '../../core/ports.js';
import type { TaskOptions } from '../../core/task/task.js';
import { KPS_MAX_BATCH } from './context.js';
import type { AssociateBody, DisassociateBody } from './schemas.js';

type Server = Static<typeof AssociateBody>['server'];

export function credentialOf(auth: Server['auth']): LiveCredential | undefined {
  if (!auth || (auth.type === undefined && auth.key === undefined)) return undefined;
  if (auth.type === undefined || auth.key === undefined) {
    throw new CoreError('Input.Missing', "server.auth needs both 'type' (password or keypair) and 'key'.", {
      parameter: 'server.auth',
    });
  }
  return auth.type === 'password'
    ? { kind: 'password', password: auth.key }
    : { kind: 'privateKey', privateKey: auth.key };
}

export function associateFlavour(credential: LiveCredential | undefined): NonNullable<TaskOptions['flavour']> {
  if (!credential) return 'reset';
  return credential.kind === 'privateKey' ? 'replace' : 'bind';
}

function optionsOf(server: Server, flavour: NonNullable<TaskOptions['flavour']>): TaskOptions {
  // disable_password is recorded; the core's rule applies regardless (a bound key pair turns password login off).
  const options: TaskOptions = { flavour };
  if (server.port !== undefined) options.port = server.port;
  if (server.disable_password !== undefined) options.disablePassword = server.disable_password;
  return options;
}

export function associateRequest(regionId: string, body: Static<typeof AssociateBody>): BindRequest {
  const credential = credentialOf(body.server.auth);
  return {
    regionId,
    kind: 'bind',
    keyPairName: body.keypair_name,
    instanceIds: [body.server.id],
    mode: 'live',
    credential,
    options: optionsOf(body.server, associateFlavour(credential)),
    maxBatch: KPS_MAX_BATCH,
  };
}

/** Names no key pair: the core unbinds what the server has and records it on the task. */
export function disassociateRequest(regionId: string, body: Static<typeof DisassociateBody>): BindRequest {
  return {
    regionId,
    kind: 'unbind',
    instanceIds: [body.server.id],
    mode: 'live',
    credential: credentialOf(body.server.auth),
    options: optionsOf(body.server, 'unbind'),
    maxBatch: KPS_MAX_BATCH,
  };
}
