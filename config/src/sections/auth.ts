import { z } from 'zod';
import { bool, json } from './fields.ts';

/** A dotted path into a provider's profile JSON ("response.email"). */
const fieldPath = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a dotted field path');

const providerBase = {
  /** In the routes (/api/auth/<id>/login) and data-testids (login-provider-<id>). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes'),
  /** The button's label. */
  name: z.string().min(1).max(64),
  clientId: z.string().min(1),
  clientSecret: z.string().optional(),
  /** PKCE (S256); off only for providers that reject it (Naver). */
  pkce: z.boolean().default(true),
};

const profileSchema = z.object({
  id: fieldPath,
  name: fieldPath.optional(),
  email: fieldPath.optional(),
  /** Where the provider says the email is verified; absent → never verified (no linking). */
  emailVerified: fieldPath.optional(),
});

export const providerSchema = z.discriminatedUnion('type', [
  z.object({
    ...providerBase,
    type: z.literal('oidc'),
    /** Discovery: <issuer>/.well-known/openid-configuration; the id token's iss must match. */
    issuer: z.url(),
    scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
    /** Claims of the id token (merged with userinfo). */
    profile: profileSchema.default({
      id: 'sub',
      name: 'name',
      email: 'email',
      emailVerified: 'email_verified',
    }),
  }),
  z.object({
    ...providerBase,
    type: z.literal('oauth2'),
    authorizationUrl: z.url(),
    tokenUrl: z.url(),
    userinfoUrl: z.url(),
    scopes: z.array(z.string()).default([]),
    profile: profileSchema,
    /** How the client secret reaches the token endpoint. */
    tokenAuth: z.enum(['post', 'basic']).default('post'),
  }),
]);

export const authSection = z
  .object({
    /** People without an account may use rooms. */
    guests: bool.default(true),
    /** Social login; env TUTTI_AUTH_PROVIDERS as a JSON array. See docs/accounts.md. */
    providers: z
      .preprocess(json, z.array(providerSchema))
      .default([])
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'duplicate id'),
    sessionTtlDays: z.coerce.number().int().min(1).max(400).default(30),
    /** Login and password checks per client address per minute (burst included). */
    loginsPerMinutePerAddress: z.coerce.number().int().positive().default(10),
    /** …and per account (email), from any address. */
    loginsPerMinutePerAccount: z.coerce.number().int().positive().default(5),
    /** Sign-ups per client address per hour. */
    signupsPerHourPerAddress: z.coerce.number().int().positive().default(20),
    /** argon2id cost: memory in KiB and passes (OWASP's minimum: 19456, 2). */
    argon2MemoryKiB: z.coerce.number().int().min(1024).default(19456),
    argon2Passes: z.coerce.number().int().min(1).default(2),
    /**
     * TEST ONLY: lets providers be reached over http:// (a local OpenID provider in the
     * tests). Never set it in a deployment: tokens would travel in clear text.
     */
    allowInsecureProviders: bool.default(false),
  })
  .prefault({});
