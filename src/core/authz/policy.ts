/**
 * RAM/IAM-style policies: JSON documents of statements with Effect Allow/Deny, Action and Resource (with `*` and
 * `?` wildcards) and an optional Condition. Evaluation: an explicit Deny wins; otherwise every resource of the
 * request needs an Allow; nothing is allowed by default.
 *
 * Policies are compiled once into a per-action index, so a check touches only the statements that name the
 * action and, among those, only the patterns whose resource part can match: with 100 policies of 20 statements a
 * request tests a handful of resource patterns, not 2,000.
 */
import { compileGlob, type Glob, wildcardCount } from '../../common/glob.js';
import { CoreError } from '../errors.js';
import type { Action, ResourceRef } from './actions.js';
import { actionNameTable } from './action-names.js';

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

/** The request attributes a Condition can test. */
const CONDITION_KEYS: Record<string, (ref: ResourceRef) => string | undefined> = {
  'acs:regionid': (r) => r.regionId,
  'keyfleet:regionid': (r) => r.regionId,
  'acs:resourcegroupid': (r) => r.resourceGroupId,
  'keyfleet:resourcegroupid': (r) => r.resourceGroupId,
};
const OPERATORS = ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike'] as const;
type Operator = (typeof OPERATORS)[number];

interface CompiledCondition {
  operator: Operator;
  read: (ref: ResourceRef) => string | undefined;
  values: string[];
  patterns: Glob[];
}

interface CompiledStatement {
  deny: boolean;
  resources: ResourceMatcher[];
  anyResource: boolean;
  conditions: CompiledCondition[];
}

/**
 * The statements of one action, compiled for speed: the resource patterns of statements without conditions are
 * merged into one allow and one deny index; statements with conditions are kept apart because their conditions
 * must be checked one by one.
 */
interface ActionRules {
  allowAny: boolean;
  denyAny: boolean;
  allow: ResourceIndex;
  deny: ResourceIndex;
  conditional: CompiledStatement[];
}

/** A user's permissions, compiled: rules indexed by core action. */
export interface PermissionSet {
  readonly byAction: ReadonlyMap<Action, ActionRules>;
}

export const MAX_STATEMENTS_PER_POLICY = 100;
export const MAX_POLICY_BYTES = 32 * 1024;
/**
 * One Action, Resource or condition value. Matching costs at most pattern length × name length (see
 * common/glob.ts), so these two bound the cost of a statement; real patterns are far shorter (a full resource
 * name is at most ~300 characters).
 */
export const MAX_PATTERN_LENGTH = 512;
export const MAX_WILDCARDS_PER_PATTERN = 20;

const NAMES = actionNameTable();

/**
 * Resource patterns indexed by the literal start of their resource part (`instance/i-team42-…`), so a check tests
 * only the few patterns that can match instead of every pattern of the action. A full pattern has five parts
 * (`acs:ecs:{region}:{account}:{resource}`); in the first four a `*` stays within its part, in the resource it
 * may span anything (key pair names may contain ':'). Shorter patterns (`*`, `acs:ecs:*`) match as prefixes
 * and are always tested.
 */
interface ResourceIndex {
  byPrefix: Map<string, ResourceMatcher[]>;
  /** The lengths of the keys of byPrefix, ascending: a check looks up only prefixes of these lengths. */
  prefixLengths: number[];
  always: ResourceMatcher[];
}

/**
 * A resource name as patterns read it: whole, and in parts — the four colon-free parts `acs`, `ecs`, region,
 * account, then the rest (which may hold ':'); null when the name has fewer than four colons. Split at most once
 * per check (when a pattern first needs the parts), not once per pattern.
 */
class Name {
  #parts: string[] | null | undefined;
  constructor(readonly full: string) {}

  get parts(): string[] | null {
    if (this.#parts !== undefined) return this.#parts;
    const parts: string[] = [];
    let start = 0;
    for (let i = 0; i < 4; i++) {
      const colon = this.full.indexOf(':', start);
      if (colon === -1) return (this.#parts = null);
      parts.push(this.full.slice(start, colon));
      start = colon + 1;
    }
    parts.push(this.full.slice(start));
    return (this.#parts = parts);
  }
}

type ResourceMatcher = (name: Name) => boolean;

/**
 * A resource pattern, compiled, and the literal start of its resource part (null: none). A pattern of five parts
 * or more matches part by part: a part of the first four holds no ':', so the name's first four colons are where
 * the pattern's are, and a `*` there cannot reach into the next part.
 */
function resourcePattern(p: string): { matcher: ResourceMatcher; literal: string | null } {
  const parts = p.split(':');
  if (parts.length < 5) {
    const whole = compileGlob(p);
    return { matcher: (name) => whole.test(name.full), literal: null };
  }
  const resource = parts.slice(4).join(':');
  const globs = [...parts.slice(0, 4), resource].map((part) => compileGlob(part));
  const firstWildcard = resource.search(/[*?]/);
  return {
    matcher(name) {
      const actual = name.parts;
      if (actual === null) return false;
      for (let i = 0; i < 5; i++) if (!globs[i]!.test(actual[i]!)) return false;
      return true;
    },
    literal: firstWildcard === -1 ? resource : resource.slice(0, firstWildcard),
  };
}

function indexPatterns(patterns: string[]): ResourceIndex {
  const index: ResourceIndex = { byPrefix: new Map(), prefixLengths: [], always: [] };
  for (const p of new Set(patterns)) {
    const { matcher, literal } = resourcePattern(p);
    if (literal === null) {
      index.always.push(matcher);
      continue;
    }
    const list = index.byPrefix.get(literal) ?? [];
    list.push(matcher);
    index.byPrefix.set(literal, list);
  }
  index.prefixLengths = [...new Set([...index.byPrefix.keys()].map((k) => k.length))].sort((a, b) => a - b);
  return index;
}

function indexMatches(index: ResourceIndex, name: Name): boolean {
  if (index.always.some((m) => m(name))) return true;
  if (index.byPrefix.size === 0) return false;
  let colons = 0;
  let start = 0;
  for (; start < name.full.length && colons < 4; start++) if (name.full.charCodeAt(start) === 58) colons++;
  const resource = name.full.slice(start);
  for (const length of index.prefixLengths) {
    if (length > resource.length) break;
    const list = index.byPrefix.get(resource.slice(0, length));
    if (list?.some((m) => m(name))) return true;
  }
  return false;
}

const asList = (v: string | string[] | undefined, def: string[]): string[] =>
  v === undefined ? def : Array.isArray(v) ? v : [v];

function malformed(message: string): CoreError {
  return new CoreError('Policy.Malformed', `The policy document is not valid: ${message}`);
}

/** Validates a policy document from user input; throws Policy.Malformed with the reason. */
export function parsePolicyDocument(raw: unknown): PolicyDocument {
  const doc = typeof raw === 'string' ? safeJson(raw) : raw;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw malformed('it must be a JSON object with a Statement list.');
  if (JSON.stringify(doc).length > MAX_POLICY_BYTES) throw malformed(`it is larger than ${MAX_POLICY_BYTES} bytes.`);
  const statements = (doc as { Statement?: unknown }).Statement;
  if (!Array.isArray(statements) || statements.length === 0) throw malformed('Statement must be a non-empty list.');
  if (statements.length > MAX_STATEMENTS_PER_POLICY)
    throw malformed(`at most ${MAX_STATEMENTS_PER_POLICY} statements are allowed.`);
  statements.forEach((s: unknown, n) => validateStatement(s, n + 1));
  return doc as PolicyDocument;
}

/** The limits on one pattern, so that no statement is costly to evaluate (common/glob.ts). */
function checkPattern(pattern: string, what: string): void {
  const shown = pattern.length > 40 ? `${pattern.slice(0, 40)}…` : pattern;
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw malformed(`${what} '${shown}' is longer than ${MAX_PATTERN_LENGTH} characters.`);
  if (wildcardCount(pattern) > MAX_WILDCARDS_PER_PATTERN)
    throw malformed(`${what} '${shown}' has more than ${MAX_WILDCARDS_PER_PATTERN} wildcards ('*' or '?').`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformed('it is not valid JSON.');
  }
}

function validateStatement(s: unknown, n: number): void {
  if (typeof s !== 'object' || s === null) throw malformed(`statement ${n} is not an object.`);
  const st = s as Record<string, unknown>;
  for (const key of Object.keys(st)) {
    if (!['Effect', 'Action', 'Resource', 'Condition', 'Sid'].includes(key))
      throw malformed(`statement ${n} has an unsupported element '${key}'.`);
  }
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny')
    throw malformed(`statement ${n}: Effect must be "Allow" or "Deny".`);
  const isStrings = (v: unknown) =>
    typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
  if (!isStrings(st.Action)) throw malformed(`statement ${n}: Action must be a string or a list of strings.`);
  for (const a of asList(st.Action as string | string[], [])) {
    checkPattern(a, `statement ${n}: the action`);
    const glob = compileGlob(a);
    if (![...NAMES.keys()].some((name) => glob.test(name)))
      throw malformed(`statement ${n}: the action '${a}' matches no action.`);
  }
  if (st.Resource !== undefined && !isStrings(st.Resource))
    throw malformed(`statement ${n}: Resource must be a string or a list of strings.`);
  for (const r of asList(st.Resource as string | string[] | undefined, []))
    checkPattern(r, `statement ${n}: the resource`);
  if (st.Condition !== undefined) {
    if (typeof st.Condition !== 'object' || st.Condition === null)
      throw malformed(`statement ${n}: Condition must be an object.`);
    for (const [op, body] of Object.entries(st.Condition as Record<string, unknown>)) {
      if (!(OPERATORS as readonly string[]).includes(op))
        throw malformed(
          `statement ${n}: the condition operator '${op}' is not supported (use ${OPERATORS.join(', ')}).`,
        );
      if (typeof body !== 'object' || body === null)
        throw malformed(`statement ${n}: ${op} must map condition keys to values.`);
      for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
        if (!CONDITION_KEYS[key.toLowerCase()])
          throw malformed(
            `statement ${n}: the condition key '${key}' is not supported (use acs:RegionId or acs:ResourceGroupId).`,
          );
        if (!isStrings(value))
          throw malformed(`statement ${n}: the value of ${key} must be a string or a list of strings.`);
        for (const v of asList(value as string | string[], [])) checkPattern(v, `statement ${n}: a value of ${key}`);
      }
    }
  }
}

/** Compiles the policies attached to a user into one permission set. */
export function compilePermissions(documents: PolicyDocument[]): PermissionSet {
  const gathered = new Map<
    Action,
    { allow: string[]; deny: string[]; allowAny: boolean; denyAny: boolean; conditional: CompiledStatement[] }
  >();
  for (const doc of documents) {
    for (const st of doc.Statement) {
      const resources = asList(st.Resource, ['*']);
      const deny = st.Effect === 'Deny';
      const conditions = Object.entries(st.Condition ?? {}).flatMap(([op, body]) =>
        Object.entries(body).map(([key, value]) => {
          const values = asList(value, []);
          return {
            operator: op as Operator,
            read: CONDITION_KEYS[key.toLowerCase()]!,
            values,
            patterns: values.map((v) => compileGlob(v)),
          };
        }),
      );
      const compiled: CompiledStatement = {
        deny,
        anyResource: resources.includes('*'),
        resources: resources.map((r) => resourcePattern(r).matcher),
        conditions,
      };
      const actions = new Set<Action>();
      for (const pattern of asList(st.Action, [])) {
        const glob = compileGlob(pattern);
        for (const [name, mapped] of NAMES) if (glob.test(name)) mapped.forEach((a) => actions.add(a));
      }
      for (const a of actions) {
        const g = gathered.get(a) ?? { allow: [], deny: [], allowAny: false, denyAny: false, conditional: [] };
        if (conditions.length > 0) g.conditional.push(compiled);
        else if (compiled.anyResource) {
          if (deny) g.denyAny = true;
          else g.allowAny = true;
        } else (deny ? g.deny : g.allow).push(...resources);
        gathered.set(a, g);
      }
    }
  }
  const byAction = new Map<Action, ActionRules>();
  for (const [a, g] of gathered) {
    byAction.set(a, {
      allowAny: g.allowAny,
      denyAny: g.denyAny,
      allow: indexPatterns(g.allow),
      deny: indexPatterns(g.deny),
      conditional: g.conditional,
    });
  }
  return { byAction };
}

/** The RAM-style name of a resource: acs:ecs:{region}:{account}:{type}/{id}. */
export function resourceName(accountId: string, ref: ResourceRef): string {
  return `acs:ecs:${ref.regionId}:${accountId}:${ref.type}/${ref.id}`;
}

function conditionsHold(st: CompiledStatement, ref: ResourceRef): boolean {
  for (const c of st.conditions) {
    const actual = c.read(ref);
    const hit =
      c.operator === 'StringEquals' || c.operator === 'StringNotEquals'
        ? actual !== undefined && c.values.includes(actual)
        : actual !== undefined && c.patterns.some((p) => p.test(actual));
    const wanted = c.operator === 'StringEquals' || c.operator === 'StringLike';
    if (hit !== wanted) return false;
  }
  return true;
}

function matches(st: CompiledStatement, name: Name, ref: ResourceRef): boolean {
  return (st.anyResource || st.resources.some((r) => r(name))) && conditionsHold(st, ref);
}

/** The decision for one action on resources: 'deny' (explicit), 'allow', or 'implicit-deny'. */
export function evaluate(
  set: PermissionSet,
  accountId: string,
  action: Action,
  refs: ResourceRef[],
): 'allow' | 'deny' | 'implicit-deny' {
  const rules = set.byAction.get(action);
  if (!rules) return 'implicit-deny';
  let allowedAll = true;
  for (const ref of refs) {
    const name = new Name(resourceName(accountId, ref));
    if (rules.denyAny || indexMatches(rules.deny, name)) return 'deny';
    let allowed = rules.allowAny || indexMatches(rules.allow, name);
    for (const st of rules.conditional) {
      if (!matches(st, name, ref)) continue;
      if (st.deny) return 'deny';
      allowed = true;
    }
    if (!allowed) allowedAll = false;
  }
  return allowedAll ? 'allow' : 'implicit-deny';
}
