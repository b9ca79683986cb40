/**
 * Request shapes of the KPS, Nova and IAM calls (TypeBox → JSON Schema, validated by Fastify after authentication;
 * a mismatch is 400 KPS.0002). Field names and types follow API.md §3–§5, §7, §9 and the SDK models. Unknown fields
 * are ignored, as Huawei's services do, so newer SDK models keep working; known fields are checked strictly.
 */
import { Type } from 'typebox';

/**
 * A whole number within [minimum, maximum]. The nested type check is not redundant: with type coercion on, ajv turns
 * the strings 'Infinity' and '1e309' into Infinity and then skips every number keyword for it (they apply to finite
 * numbers only), so a bound alone lets Infinity through to the store (issue 18: a 500). The nested check runs on the
 * coerced value and refuses it: a 400 like any other out-of-range value.
 */
export const BoundedInteger = (range: { minimum: number; maximum: number }) =>
  Type.Integer({ ...range, allOf: [{ type: 'integer' }] });

/** The KPS key pair name rule (API.md §3.1: the 255-character form of the docs). Enforced where names are made. */
export const KPS_NAME_PATTERN = '^[A-Za-z0-9_-]{1,255}$';
export const KPS_NAME = new RegExp(KPS_NAME_PATTERN);

const Name = Type.String({ minLength: 1, maxLength: 255 });
const KeyText = Type.String({ minLength: 1, maxLength: 16_384 });

export const ProjectParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 64 }) });
export const KeyPairParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64 }),
  keypair_name: Name,
});
export const TaskParams = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 64 }),
  task_id: Type.String({ minLength: 1, maxLength: 128 }),
});

// -- key pairs (API.md §3) ----------------------------------------------------------------------------------------

const Encryption = Type.Object({
  // `default` (no KMS) or `kms`; keyfleet seals with its own key-encryption key either way (API.md §3.1).
  type: Type.Union([Type.Literal('default'), Type.Literal('kms')]),
  kms_key_name: Type.Optional(Type.String({ maxLength: 255 })),
  kms_key_id: Type.Optional(Type.String({ maxLength: 255 })),
});

export const KeyProtection = Type.Object({
  private_key: Type.Optional(KeyText),
  encryption: Encryption,
});

export const CreateKeypairAction = Type.Object({
  name: Type.String({ pattern: KPS_NAME_PATTERN }),
  type: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
  public_key: Type.Optional(KeyText),
  scope: Type.Optional(Type.Union([Type.Literal('domain'), Type.Literal('user')])),
  user_id: Type.Optional(Type.String({ maxLength: 64 })),
  key_protection: Type.Optional(KeyProtection),
});

export const CreateKeypairBody = Type.Object({ keypair: CreateKeypairAction });

/** Batch import: items are checked one by one so that one bad entry fails alone (capture 29). */
export const BatchImportBody = Type.Array(
  Type.Object({ keypair: Type.Object({ name: Type.String({ maxLength: 1024 }) }) }),
  { minItems: 1, maxItems: 10 },
);

export const ListKeypairsQuery = Type.Object({
  limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000 })),
  marker: Type.Optional(Name),
});

export const UpdateDescriptionBody = Type.Object({
  keypair: Type.Object({ description: Type.String({ maxLength: 1024 }) }),
});

// -- binding (API.md §4) ------------------------------------------------------------------------------------------

const ServerAuth = Type.Object({
  type: Type.Optional(Type.Union([Type.Literal('password'), Type.Literal('keypair')])),
  key: Type.Optional(KeyText),
});

const Server = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  auth: Type.Optional(ServerAuth),
  disable_password: Type.Optional(Type.Boolean()),
  port: Type.Optional(BoundedInteger({ minimum: 1, maximum: 65535 })),
});

export const AssociateBody = Type.Object({ keypair_name: Name, server: Server });
export const BatchAssociateBody = Type.Object({
  batch_keypairs: Type.Array(AssociateBody, { minItems: 1, maxItems: 10 }),
});
export const DisassociateBody = Type.Object({ server: Server });

// -- tasks (API.md §4.5) ------------------------------------------------------------------------------------------

export const TaskPageQuery = Type.Object({
  limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(BoundedInteger({ minimum: 0, maximum: 10_000_000 })),
});

// -- private keys (API.md §5) -------------------------------------------------------------------------------------

export const KeypairNameBody = Type.Object({ keypair: Type.Object({ name: Name }) });
export const BatchExportBody = Type.Array(KeypairNameBody, { minItems: 1, maxItems: 10 });
export const ImportPrivateKeyBody = Type.Object({
  keypair: Type.Object({
    name: Name,
    user_id: Type.Optional(Type.String({ maxLength: 64 })),
    key_protection: Type.Object({ private_key: KeyText, encryption: Type.Optional(Encryption) }),
  }),
});

// -- Nova os-keypairs (API.md §9) ---------------------------------------------------------------------------------

export const NovaCreateBody = Type.Object({
  keypair: Type.Object({
    name: Name,
    public_key: Type.Optional(KeyText),
    type: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
    user_id: Type.Optional(Type.String({ maxLength: 64 })),
  }),
});

export const NovaListQuery = ListKeypairsQuery;

// -- IAM (API.md §7) ----------------------------------------------------------------------------------------------

export const TokenBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 4 }),
      password: Type.Optional(
        Type.Object({
          user: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 128 }),
            password: Type.String({ minLength: 1, maxLength: 256 }),
            domain: Type.Optional(
              Type.Object({
                name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
                id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              }),
            ),
          }),
        }),
      ),
    }),
    scope: Type.Optional(
      Type.Object({
        project: Type.Optional(
          Type.Object({
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          }),
        ),
        domain: Type.Optional(
          Type.Object({
            name: Type.Optional(Type.String({ maxLength: 128 })),
            id: Type.Optional(Type.String({ maxLength: 64 })),
          }),
        ),
      }),
    ),
  }),
});

export const TokenQuery = Type.Object({ nocatalog: Type.Optional(Type.String({ maxLength: 8 })) });
export const ProjectsQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 64 })),
  domain_id: Type.Optional(Type.String({ maxLength: 64 })),
});
