/**
 * The gate: every use case a face can call passes through here, once. It names the call's resources from the
 * declaration, authorizes them, runs the domain function and records the outcome in the audit trail. Services
 * below it hold domain rules only; faces above it translate only.
 */
import type { Action, ResourceRef } from '../authz/actions.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Auditor } from '../audit/auditor.js';
import type { Caller } from '../caller.js';
import { CoreError, isCoreError } from '../errors.js';
import type { AnyUseCase, ExposedAll, Named, UseCase } from './use-case.js';

export interface GateDeps {
  authz: Authorizer;
  auditor: Pick<Auditor, 'append'>;
}

const notAdmin = (caller: Caller) =>
  new CoreError('Auth.Forbidden', `User '${caller.userName}' is not an administrator of this account.`);

export function createGate({ authz, auditor }: GateDeps) {
  function authorize(caller: Caller, spec: UseCase<never, unknown>, action: string, named: Named): void {
    const admin = caller.isAccountAdmin || caller.isSystemAdmin;
    switch (spec.access) {
      case 'policy':
        for (const check of named.checks ?? [{ action: action as Action, refs: named.refs }])
          authz.check(caller, check.action, check.refs);
        return;
      case 'admin':
        if (!admin) throw notAdmin(caller);
        return;
      case 'self-or-admin':
        if (!admin && (named.subjectUserId === undefined || named.subjectUserId !== caller.userId))
          throw notAdmin(caller);
        return;
      case 'system-admin':
        if (!caller.isSystemAdmin)
          throw new CoreError('Auth.Forbidden', `User '${caller.userName}' is not the system administrator.`);
        return;
      case 'signed-in':
        return;
    }
  }

  function guard<A extends unknown[], R>(spec: UseCase<A, R>) {
    return async (caller: Caller, ...args: A): Promise<R> => {
      const mutating = typeof spec.mutates === 'function' ? spec.mutates(...args) : spec.mutates;
      let action = typeof spec.action === 'function' ? spec.action(...args) : spec.action;
      let refs: ResourceRef[] = [];
      try {
        const given = await spec.names(caller, ...args);
        const named: Named = Array.isArray(given) ? { refs: given } : given;
        refs = named.refs;
        action = named.action ?? action;
        authorize(caller, spec as unknown as UseCase<never, unknown>, action, named);
        const result = await spec.run(caller, ...args);
        if (mutating) {
          if (spec.namesAfter) refs = withoutDuplicates([...refs, ...spec.namesAfter(result, ...args)]);
          await auditor.append(caller, action, refs, 'success', null, { taskId: spec.taskOf?.(result) ?? null });
        }
        return result;
      } catch (err) {
        const code = isCoreError(err) ? err.code : 'Internal';
        const denied = code === 'Auth.Forbidden';
        if (mutating || denied) await auditor.append(caller, action, refs, denied ? 'denied' : 'failure', code);
        throw err;
      }
    };
  }

  return {
    /** The callable form of a set of declared use cases: each one authorized, run and audited by this gate. */
    expose<T extends Record<string, AnyUseCase>>(specs: T): ExposedAll<T> {
      const out: Record<string, unknown> = {};
      for (const [name, spec] of Object.entries(specs)) out[name] = guard(spec as UseCase<unknown[], unknown>);
      return out as ExposedAll<T>;
    },
  };
}

export type Gate = ReturnType<typeof createGate>;

function withoutDuplicates(refs: ResourceRef[]): ResourceRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.type}|${r.regionId}|${r.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
