/** Request schemas of the native API (TypeBox → JSON Schema: validated by Fastify, published in the OpenAPI document). */
import { TagFilterQuery } from './tag-filter.js';
import { Type } from 'typebox';

/**
 * A whole number within [minimum, maximum]. The nested type check is not redundant: with type coercion on, ajv turns
 * the strings 'Infinity' and '1e309' into Infinity and then skips every number keyword for it (they apply to finite
 * numbers only), so a bound alone lets Infinity through to the store (issue 18: a 500). The nested check runs on the
 * coerced value and refuses it: a 400 like any other out-of-range value.
 */
export const BoundedInteger = (range: { minimum: number; maximum: number }) =>
  Type.Integer({ ...range, allOf: [{ type: 'integer' }] });

export const RegionParams = Type.Object({ regionId: Type.String({ minLength: 1, maxLength: 64 }) });
export const KeyPairParams = Type.Object({
  regionId: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 255 }),
});
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const Paging = {
  offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: 10_000_000 })),
  limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000 })),
};
export const TagSchema = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 128 }), value: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);

export const SignInBody = Type.Object(
  {
    accountName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    accessKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    accessKeySecret: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const KeyPairListQuery = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  resourceGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  tag: TagFilterQuery,
  ...Paging,
});

/** Escrow at create (`escrow`) or import (`privateKey`, which must match `publicKey`): see docs/api/native-escrow.md. */
const EscrowOptIn = {
  escrow: Type.Optional(Type.Boolean()),
  privateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384 })),
};
export const EscrowPutBody = Type.Object(
  { privateKey: Type.String({ minLength: 1, maxLength: 16_384 }) },
  { additionalProperties: false },
);

export const KeyPairCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    type: Type.Optional(
      Type.Union([Type.Literal('rsa'), Type.Literal('ed25519')], {
        description: 'key type to generate; default ed25519 (the CLI and console default too)',
      }),
    ),
    publicKey: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384 })),
    resourceGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    tags: Type.Optional(Type.Array(TagSchema, { maxItems: 20 })),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    ...EscrowOptIn,
  },
  { additionalProperties: false },
);

export const KeyPairPatchBody = Type.Object(
  { description: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);

export const InstanceListQuery = Type.Object({
  status: Type.Optional(
    Type.Union(['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'].map((s) => Type.Literal(s))),
  ),
  search: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  keyPairName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  resourceGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  pendingRestart: Type.Optional(Type.Boolean()),
  tag: TagFilterQuery,
  /** Only bindings that expire within this many seconds (issue 19; expired ones not yet unbound included). */
  expiringWithin: Type.Optional(BoundedInteger({ minimum: 1, maximum: 366 * 86_400 })),
  ...Paging,
});

export const RunInstancesBody = Type.Object(
  {
    imageId: Type.String({ minLength: 1, maxLength: 128 }),
    instanceType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    amount: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    keyPairName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    resourceGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    tags: Type.Optional(Type.Array(TagSchema, { maxItems: 20 })),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    start: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** How keyfleet reaches and changes a host: given by a registration, and once for every host by an import. */
const HostSettings = {
  managementUser: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  dropInPath: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  reloadCommand: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  validateCommand: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  passwordLogin: Type.Optional(Type.Union([Type.Literal('managed'), Type.Literal('unmanaged')])),
  sudo: Type.Optional(Type.Boolean()),
  resourceGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
};

export const RegisterHostBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    address: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Optional(BoundedInteger({ minimum: 1, maximum: 65535 })),
    loginUser: Type.String({ minLength: 1, maxLength: 32 }),
    homeDir: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    rootKeysFile: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    managementPrivateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384 })),
    hostKeySha256: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...HostSettings,
    description: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

/** Characters of an inventory an import accepts (the request body limit, 1 MiB by default, also applies). */
export const MAX_INVENTORY_CHARS = 512 * 1024;

/** An inventory import: the inventory as text, read and checked by the server; one task registers every host. */
export const ImportHostsBody = Type.Object(
  {
    regionId: Type.String({ minLength: 1, maxLength: 64 }),
    inventory: Type.String({
      description: `Ansible-style INI (keyfleet_host_key, keyfleet_home variables) or CSV (name,address,port,user[,hostKeySha256[,homeDir]]); at most ${MAX_INVENTORY_CHARS} characters and 1000 hosts.`,
    }),
    format: Type.Optional(Type.Union([Type.Literal('ini'), Type.Literal('csv'), Type.Literal('auto')])),
    managementPrivateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384 })),
    defaults: Type.Optional(
      Type.Object(
        {
          loginUser: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
          port: Type.Optional(BoundedInteger({ minimum: 1, maximum: 65535 })),
          ...HostSettings,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Changes how keyfleet reaches a registered host (re-pin after a deliberate host key change, rotate the management key, settings). */
export const UpdateHostBody = Type.Object(
  {
    hostKeySha256: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    repinHostKey: Type.Optional(Type.Boolean()),
    managementPrivateKey: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 16_384 }), Type.Null()])),
    dropInPath: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    reloadCommand: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    validateCommand: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    passwordLogin: Type.Optional(Type.Union([Type.Literal('managed'), Type.Literal('unmanaged')])),
    sudo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ResetPasswordBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const DeleteInstanceQuery = Type.Object({ force: Type.Optional(Type.Boolean()) });

export const CredentialSchema = Type.Union([
  Type.Object(
    { kind: Type.Literal('password'), password: Type.String({ minLength: 1, maxLength: 256 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('privateKey'), privateKey: Type.String({ minLength: 1, maxLength: 16_384 }) },
    { additionalProperties: false },
  ),
]);

export const BindingBody = Type.Object(
  {
    action: Type.Union([Type.Literal('bind'), Type.Literal('unbind')]),
    keyPairName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    // Items are checked by the core (duplicates, format, batch size), so the API answers with the core's codes.
    instanceIds: Type.Array(Type.Unknown(), { maxItems: 100_000 }),
    mode: Type.Optional(Type.Union([Type.Literal('on-restart'), Type.Literal('live')])),
    credential: Type.Optional(CredentialSchema),
    port: Type.Optional(BoundedInteger({ minimum: 1, maximum: 65535 })),
    // Live changes: verify=false skips the login proof (one connection per host); dryRun plans without writing.
    verify: Type.Optional(Type.Boolean()),
    dryRun: Type.Optional(Type.Boolean()),
    wait: Type.Optional(Type.Boolean()),
    // A bind that expires (issue 19): an ISO time with a zone, or a duration ('8h', '20s', or seconds).
    expiresAt: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    expiresIn: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 16 }), BoundedInteger({ minimum: 1, maximum: 366 * 86_400 })]),
    ),
  },
  { additionalProperties: false },
);

/** Extending a binding's expiry (issue 19). */
export const ExtendExpiryBody = Type.Object(
  {
    expiresAt: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    expiresIn: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 16 }), BoundedInteger({ minimum: 1, maximum: 366 * 86_400 })]),
    ),
    credential: Type.Optional(CredentialSchema),
    wait: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const TaskListQuery = Type.Object({
  status: Type.Optional(
    Type.Union(['queued', 'running', 'succeeded', 'failed', 'partial'].map((s) => Type.Literal(s))),
  ),
  regionId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ...Paging,
});

export const TaskItemsQuery = Type.Object({
  status: Type.Optional(Type.Union(['pending', 'running', 'succeeded', 'failed'].map((s) => Type.Literal(s)))),
  offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: 10_000_000 })),
  limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 10_000 })),
});

export const UserParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export const UserPolicyParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  policy: Type.String({ minLength: 1, maxLength: 128 }),
});
export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    isAccountAdmin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const PasswordBody = Type.Object(
  { password: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]) },
  { additionalProperties: false },
);
export const AccessKeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const AccessKeyPatchBody = Type.Object(
  { status: Type.Union([Type.Literal('Active'), Type.Literal('Inactive')]) },
  { additionalProperties: false },
);
export const PolicyParams = Type.Object({ policy: Type.String({ minLength: 1, maxLength: 128 }) });
/** `force=true`: detach the policy from every user and group that has it, then delete it. */
export const DeletePolicyQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export const CreatePolicyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    document: Type.Unknown(),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export const CreateAccountBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    adminName: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    adminPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export const AuditQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  userName: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  resource: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  result: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
  /** request: what a call asked (and whether it was accepted); outcome: what a task it submitted came to. */
  stage: Type.Optional(Type.Union([Type.Literal('request'), Type.Literal('outcome')])),
  taskId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: 10_000_000 })),
  limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 10_000 })),
});

// Drift of registered hosts and simulated instances. Ids are checked by the core (format, duplicates, batch size),
// as for bindings; the repair's body is the drift route's own (it may carry a credential).
export const DriftScanBody = Type.Object(
  { instanceIds: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 100_000 })) },
  { additionalProperties: false },
);

// User groups (account administrators): a group's members get the policies attached to it.
export const GroupParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export const GroupMemberParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  user: Type.String({ minLength: 1, maxLength: 64 }),
});
export const GroupPolicyParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  policy: Type.String({ minLength: 1, maxLength: 128 }),
});
export const CreateGroupBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
