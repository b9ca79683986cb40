/**
 * IAM password tokens (API.md §7): `auth.identity.password.user` {name, password, domain {name | id}} and a project
 * scope {name (the region) | id}. KPS needs a project-scoped token, so no other scope is issued. The token is the
 * core's session, scoped to the region: the face refuses it on any other project (auth.ts).
 *
 * The domain is the keyfleet account (its name; or its derived id, for the account the core signs in by default).
 * A scope given by project id can only be resolved once the account is known, so that sign-in is done unscoped,
 * checked, and replaced by a scoped one.
 */
import type { Static } from 'typebox';
import type { RequestContext } from '../../core/account/account-service.js';
import type { Caller } from '../../core/caller.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/index.js';
import { domainIdOf, findProject, type Project, projectIdOf } from './projects.js';
import type { TokenBody } from './schemas.js';

export interface IssuedToken {
  token: string;
  caller: Caller;
  expiresAt: Date;
  project: Project;
}

const WRONG_CREDENTIALS = 'The user name, password or domain is not correct.';

export async function issueToken(
  core: Core,
  auth: Static<typeof TokenBody>['auth'],
  ctx: RequestContext,
): Promise<IssuedToken> {
  const password = auth.identity.password;
  if (!auth.identity.methods.includes('password') || !password) {
    throw new CoreError('Input.Invalid', "Only the 'password' identity method is supported.", {
      parameter: 'auth.identity.methods',
    });
  }
  const scope = auth.scope?.project;
  if (!scope || (scope.name === undefined && scope.id === undefined)) {
    throw new CoreError(
      'Input.Missing',
      'KPS needs a project-scoped token: give auth.scope.project.name (the region) or auth.scope.project.id.',
      { parameter: 'auth.scope.project' },
    );
  }
  const { user } = password;
  const domainName = user.domain?.name;
  const domainId = user.domain?.id;
  if (domainName === undefined && domainId === undefined) {
    throw new CoreError(
      'Input.Missing',
      'Give the domain (the account) of the user: auth.identity.password.user.domain.name or .id.',
      { parameter: 'domain' },
    );
  }
  if (scope.name !== undefined && !core.regions.some((r) => r.id === scope.name)) {
    throw new CoreError('Auth.Unauthenticated', `The project '${scope.name}' does not exist.`);
  }

  const signIn = (regionId: string | undefined) =>
    core.accounts.signIn({ accountName: domainName, userName: user.name, password: user.password, regionId }, ctx);
  let signed = await signIn(scope.name);
  const refuse = async (message: string): Promise<never> => {
    await core.accounts.signOut(signed.caller);
    throw new CoreError('Auth.Unauthenticated', message);
  };
  const accountId = signed.caller.accountId;
  if (domainId !== undefined && domainId !== domainIdOf(accountId)) await refuse(WRONG_CREDENTIALS);

  if (scope.id === undefined) {
    const region = core.regions.find((r) => r.id === scope.name)!;
    return { ...signed, project: { id: projectIdOf(accountId, region.id), region } };
  }
  const project = findProject(accountId, core.regions, scope.id);
  if (!project || (scope.name !== undefined && project.region.id !== scope.name))
    return refuse(`The project '${scope.id.slice(0, 64)}' does not exist.`);
  if (scope.name === undefined) {
    await core.accounts.signOut(signed.caller);
    signed = await signIn(project.region.id);
  }
  return { ...signed, project };
}
