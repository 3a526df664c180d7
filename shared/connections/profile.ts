import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { MAX_GROUP_PATTERN_LENGTH } from './group-pattern.js';
import { issueProblems, ruleProblems, withoutUnknownKeys, withoutUrlCredentials, type FieldProblem } from './profile-problems.js';

export type { FieldProblem } from './profile-problems.js';

/**
 * A connection profile: one named directory (a CSV export now; Entra and Okta tenants next) and
 * everything scoped to it. Secrets are never part of a profile, only the names of the app settings
 * that hold them.
 */

export const STANDARD_FIELDS = ['username', 'email', 'firstName', 'lastName'] as const;
export type StandardField = (typeof STANDARD_FIELDS)[number];

const secretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'name an app setting (letters, digits, underscores), not a secret value');

const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a field name of letters, digits and underscores');

export const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('off') }),
  z.strictObject({ kind: z.literal('hourly') }),
  z.strictObject({ kind: z.literal('interval'), minutes: z.number().int().min(5).max(7 * 24 * 60) }),
  z.strictObject({
    kind: z.literal('daily'),
    hour: z.number().int().min(0).max(23),
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'an IANA time zone such as Europe/London'),
  }),
]);
export type Schedule = z.infer<typeof scheduleSchema>;

/**
 * Accidental-disable guard (as Entra provisioning's accidental-deletions prevention): a run that would
 * disable more than `maxCount` users, or more than both `maxPercent` of the directory's enabled users
 * and `minCount` users, stops before disabling anyone and waits for an admin to confirm it. `minCount`
 * keeps a small directory's routine leaver (1 of 6 is 17%) from needing a confirmation every time.
 */
export const disableGuardSchema = z.strictObject({
  maxPercent: z.number().min(0).max(100).default(10),
  maxCount: z.number().int().min(0).default(500),
  minCount: z.number().int().min(0).default(5),
});
export type DisableGuard = z.infer<typeof disableGuardSchema>;
const DEFAULT_DISABLE_GUARD = { maxPercent: 10, maxCount: 500, minCount: 5 };

/**
 * Group sync: `off` leaves every membership alone; `all` or `regex` make directory users' directory
 * groups follow the source (groups matching `pattern` only, for `regex`).
 */
export const groupSettingsSchema = z
  .strictObject({
    mode: z.enum(['off', 'all', 'regex']).default('off'),
    /** For `regex`: an RE2 regular expression matched against each group name (e.g. `^Intranet-`): see group-pattern.ts. */
    pattern: z.string().min(1).max(MAX_GROUP_PATTERN_LENGTH).optional(),
    /**
     * Keep directory users' memberships of local (admin-managed) groups. Off by default, as in the
     * product we replace: with group sync on, the directory is the one truth about memberships.
     */
    keepLocalGroups: z.boolean().default(false),
  })
  .superRefine((settings, context) => {
    // Whether the pattern compiles as RE2 is checked beside the schema (ruleProblems): see readStoredProfile.
    if (settings.mode === 'regex' && !settings.pattern) {
      context.addIssue({ code: 'custom', path: ['pattern'], message: 'a pattern is required when mode is "regex"' });
    }
  });
export type GroupSettings = z.infer<typeof groupSettingsSchema>;

const csvSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** A file uploaded to the app's CSV container (`usersync csv upload`): the "intranet DMS" source. */
    kind: z.literal('blob'),
    blobName: z.string().min(1).max(1024),
  }),
  z.strictObject({
    /** A file an HR system publishes on a web server, fetched with basic authentication. */
    kind: z.literal('https'),
    url: z.url({ protocol: /^https?$/ }),
    username: z.string().max(256).optional(),
    passwordSecret: secretName.optional(),
  }),
]);

const profileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, '1–64 letters, digits, spaces, dots, dashes or underscores');

/** What every type of profile has beside its name and type, with the same defaults. */
const profileSettings = {
  enabled: z.boolean().default(true),
  schedule: scheduleSchema.default({ kind: 'daily', hour: 2, timeZone: 'UTC' }),
  disableGuard: disableGuardSchema.default(DEFAULT_DISABLE_GUARD),
};

const csvProfileSchema = z.strictObject({
  name: profileName,
  type: z.literal('csv'),
  ...profileSettings,
  source: csvSourceSchema,
  /** The directory field that identifies a user across runs (the reference product's "user match field"). */
  matchField: fieldName.default('username'),
  /** The column holding the username of the user's manager. */
  managerField: z.string().min(1).max(128).optional(),
  /** A column of group names separated by `;` or `|`. */
  groupsColumn: z.string().min(1).max(128).optional(),
  groups: groupSettingsSchema.default({ mode: 'off', keepLocalGroups: false }),
  passwordColumn: z.string().min(1).max(128).default('password'),
  /** App setting holding the password given to new users whose row has none. */
  defaultPasswordSecret: secretName.optional(),
  /** CSV column → directory field, for columns whose names differ from the directory's fields. */
  columnMap: z.record(z.string().min(1).max(128), fieldName).default({}),
  /** Leave unset to detect from the header line. */
  delimiter: z.enum([',', ';', '\t', '|']).optional(),
  /** Leave unset to detect (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252). */
  encoding: z.enum(['utf-8', 'utf-16le', 'utf-16be', 'windows-1252']).optional(),
});

/** Graph user properties an `entra` profile may map (the reference product's list, FAQ 9, and the basics). */
export const GRAPH_USER_PROPERTIES = [
  'aboutMe', 'ageGroup', 'birthday', 'businessPhones', 'city', 'companyName', 'consentProvidedForMinor', 'country',
  'createdDateTime', 'creationType', 'department', 'displayName', 'employeeHireDate', 'employeeId', 'employeeType',
  'faxNumber', 'hireDate', 'imAddresses', 'interests', 'jobTitle', 'legalAgeGroupClassification', 'mail',
  'mailNickname', 'mobilePhone', 'mySite', 'officeLocation', 'onPremisesSamAccountName', 'otherMails', 'pastProjects',
  'postalCode', 'preferredLanguage', 'preferredName', 'proxyAddresses', 'responsibilities', 'schools', 'skills',
  'state', 'streetAddress', 'usageLocation', 'userPrincipalName', 'userType',
] as const;

const entraProfileSchema = z.strictObject({
  name: profileName,
  type: z.literal('entra'),
  ...profileSettings,
  /** Directory (tenant) id: a GUID, or a verified domain such as contoso.onmicrosoft.com. */
  tenantId: z.string().regex(/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]+\.[a-z]{2,})$/i, 'a tenant GUID or domain'),
  /** Application (client) id of the app registration. */
  clientId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a GUID'),
  credential: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('secret'), secretName }),
    /** A PEM certificate with its private key, held in an app setting (a Key Vault reference in Azure). */
    z.strictObject({ kind: z.literal('certificate'), certificateSecret: secretName }),
  ]),
  /** Security groups (ids) whose transitive members are synced. None selected: no users (the reference rule). */
  selectedGroups: z.array(z.string().min(1).max(64)).max(100).default([]),
  /** Also offer and sync mail-enabled (Exchange / Microsoft 365) groups. */
  includeMailEnabledGroups: z.boolean().default(false),
  usernameAttribute: z.enum(['userPrincipalName', 'mail', 'mailNickname', 'employeeId', 'onPremisesSamAccountName']).default('userPrincipalName'),
  /** Graph user property → directory field. */
  attributeMap: z.partialRecord(z.enum(GRAPH_USER_PROPERTIES), fieldName).default({}),
  /** Guest (B2B) accounts: left out unless included. */
  guests: z.enum(['exclude', 'include']).default('exclude'),
  groups: groupSettingsSchema.default({ mode: 'off', keepLocalGroups: false }),
  /** Link each user to their Entra manager. */
  orgChart: z.boolean().default(true),
  /** How many of a run's listing chains read Graph at once (default LISTING_CONCURRENCY.entra). */
  listingConcurrency: z.number().int().min(1).max(32).optional(),
  /** National cloud: picks the Graph and sign-in endpoints. */
  cloud: z.enum(['global', 'usgov', 'china']).default('global'),
  /** Explicit endpoints (override the cloud's; also how tests reach a local server). */
  graphBaseUrl: z.url({ protocol: /^https$/ }).optional(),
  authorityHost: z.url({ protocol: /^https$/ }).optional(),
});

/** Okta profile attributes an `okta` profile may map (the reference product's list, FAQ 9, and the basics). */
export const OKTA_PROFILE_ATTRIBUTES = [
  'login', 'email', 'firstName', 'lastName', 'middleName', 'honorificPrefix', 'honorificSuffix', 'displayName',
  'nickName', 'profileUrl', 'secondEmail', 'mobilePhone', 'primaryPhone', 'streetAddress', 'city', 'state', 'zipCode',
  'countryCode', 'postalAddress', 'preferredLanguage', 'locale', 'timezone', 'userType', 'employeeNumber',
  'costCenter', 'organization', 'division', 'department', 'title', 'managerId', 'manager',
] as const;

const oktaProfileSchema = z.strictObject({
  name: profileName,
  type: z.literal('okta'),
  ...profileSettings,
  /** The org URL: https://example.okta.com, …oktapreview.com, …okta-emea.com or a custom domain. */
  orgUrl: z.url({ protocol: /^https?$/ }),
  credential: z.discriminatedUnion('kind', [
    /** An API token (SSWS). Tokens expire after 30 days unused and die with the user who made them. */
    z.strictObject({ kind: z.literal('token'), tokenSecret: secretName }),
    /** An OAuth 2.0 service app: client id plus a PKCS#8 private key held in an app setting. */
    z.strictObject({ kind: z.literal('private-key'), clientId: z.string().min(1).max(128), privateKeySecret: secretName, keyId: z.string().max(128).optional() }),
  ]),
  /** Groups (ids) whose members sync. None selected: no users (the reference rule). */
  selectedGroups: z.array(z.string().min(1).max(64)).max(100).default([]),
  /** The profile attribute that becomes the username (Okta's login is the guide's preferred_username). */
  usernameAttribute: z.enum(['login', 'email', 'employeeNumber']).default('login'),
  /** Okta profile attribute → directory field. */
  attributeMap: z.partialRecord(z.enum(OKTA_PROFILE_ATTRIBUTES), fieldName).default({}),
  groups: groupSettingsSchema.default({ mode: 'off', keepLocalGroups: false }),
  /** Link each user to their manager (`managerId`, else `manager` as a login). */
  orgChart: z.boolean().default(true),
  /** How many of a run's listing chains read Okta at once (default LISTING_CONCURRENCY.okta). */
  listingConcurrency: z.number().int().min(1).max(16).optional(),
});

/** A SCIM attribute (`title`, `name.givenName`) or an extension's, by its schema URN (`urn:…:User:department`). */
const scimAttributeName = z
  .string()
  .max(256)
  .regex(/^(urn:[A-Za-z0-9._:-]+:)?[A-Za-z][A-Za-z0-9_$-]*(\.[A-Za-z][A-Za-z0-9_$-]*)?$/, 'a SCIM attribute such as title or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department');

/**
 * A directory that pushes its users to us over SCIM 2.0 (Entra provisioning, Okta) at /scim/v2/{name}: no
 * schedule and no run — each request is one change —, so no disable guard either (a pushed disable is one
 * explicit user, not a mass disable of a listing).
 */
const scimProfileSchema = z.strictObject({
  name: profileName,
  type: z.literal('scim'),
  enabled: z.boolean().default(true),
  /** App setting holding the bearer token the provider sends (compared in constant time). */
  tokenSecret: secretName,
  /** SCIM attribute → directory field, for what is not username, email, names, active or manager. */
  attributeMap: z.record(scimAttributeName, fieldName).default({}),
  // Every pushed group by default: the provider already chooses which groups it pushes (groups assigned to the
  // Entra app, Okta's Push Groups), and with `off` a client's member changes would be accepted and not kept.
  groups: groupSettingsSchema.default({ mode: 'all', keepLocalGroups: false }),
  /** Link each user to the manager the provider sends (the enterprise extension's `manager`). */
  orgChart: z.boolean().default(true),
});

export const connectionProfileSchema = z.discriminatedUnion('type', [csvProfileSchema, entraProfileSchema, oktaProfileSchema, scimProfileSchema]);

export type ConnectionProfile = z.infer<typeof connectionProfileSchema>;

/**
 * The JSON Schema of each type of profile, as an admin writes it (`io: 'input'`: fields with a default are
 * optional), for forms generated from it (the console's). Rules JSON Schema cannot say (an RE2 pattern, a time
 * zone, credentials in a URL) stay the API's to check on save. A discriminated union keeps its discriminator
 * (OpenAPI's keyword, which form libraries read to pick the option the data holds).
 */
export function profileJsonSchemas(): Record<ConnectionProfile['type'], z.core.JSONSchema.BaseSchema> {
  const schemaOf = (schema: z.ZodType) =>
    z.toJSONSchema(schema, {
      io: 'input',
      target: 'draft-07',
      override: ({ zodSchema, jsonSchema }) => {
        const { def } = zodSchema._zod;
        if (def.type === 'union' && 'discriminator' in def && typeof def.discriminator === 'string') jsonSchema.discriminator = { propertyName: def.discriminator };
      },
    });
  return { csv: schemaOf(csvProfileSchema), entra: schemaOf(entraProfileSchema), okta: schemaOf(oktaProfileSchema), scim: schemaOf(scimProfileSchema) };
}

export type CsvProfile = z.infer<typeof csvProfileSchema>;
export type EntraProfile = z.infer<typeof entraProfileSchema>;
export type OktaProfile = z.infer<typeof oktaProfileSchema>;
export type ScimProfile = z.infer<typeof scimProfileSchema>;

/** When the profile runs by itself: never, for a `scim` profile (its changes are pushed). */
export function scheduleOf(profile: ConnectionProfile): Schedule {
  return profile.type === 'scim' ? { kind: 'off' } : profile.schedule;
}

/** The profile's disable guard; a `scim` profile has none to set, as it never runs (each pushed disable is one explicit user). */
export function disableGuardOf(profile: ConnectionProfile): DisableGuard {
  return profile.type === 'scim' ? DEFAULT_DISABLE_GUARD : profile.disableGuard;
}

/** Every app setting a profile names: a run does not start while one is missing. */
export function secretNamesOf(profile: ConnectionProfile): string[] {
  switch (profile.type) {
    case 'csv':
      return [
        ...(profile.defaultPasswordSecret ? [profile.defaultPasswordSecret] : []),
        ...(profile.source.kind === 'https' && profile.source.passwordSecret ? [profile.source.passwordSecret] : []),
      ];
    case 'entra':
      return [profile.credential.kind === 'secret' ? profile.credential.secretName : profile.credential.certificateSecret];
    case 'okta':
      return [profile.credential.kind === 'token' ? profile.credential.tokenSecret : profile.credential.privateKeySecret];
    case 'scim':
      return [profile.tokenSecret];
  }
}
export type ConnectionProfileInput = z.input<typeof connectionProfileSchema>;

/**
 * How many of a run's listing chains read the directory at once, unless the profile says. Each chain has one
 * request in flight (and one read ahead): at ~200 ms a request, ~5 requests/s. Graph allows a large tenant
 * 8,000 resource units / 10 s per app (3,500 for a small one) and a `transitiveMembers` page costs 5: 8 chains
 * use ~2,000 of them. Okta's list endpoints allow 500–600 requests a minute per org for every app together:
 * 2 chains use ~600, and the SDK waits out its X-Rate-Limit-Reset when that runs out.
 */
export const LISTING_CONCURRENCY = { csv: 1, entra: 8, okta: 2, scim: 1 } as const;

export function listingConcurrencyOf(profile: ConnectionProfile): number {
  return (profile.type === 'csv' || profile.type === 'scim' ? undefined : profile.listingConcurrency) ?? LISTING_CONCURRENCY[profile.type];
}

/** A stored profile: what the admin wrote plus the key the system gave it. */
export interface Connection {
  profile: ConnectionProfile;
  /** Auto-generated once, stable for the profile's life: partitions its users. */
  directoryKey: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * Validates a profile being saved, listing every problem at once: invalid fields, unknown keys (typos
 * would otherwise be dropped silently), and the rules stored profiles are read back against.
 */
export function parseProfile(input: unknown): ConnectionProfile {
  const parsed = connectionProfileSchema.safeParse(input);
  const problems = [...(parsed.success ? [] : issueProblems(parsed.error.issues, schemaFor(input))), ...ruleProblems(input)];
  if (parsed.success && problems.length === 0) return parsed.data;
  throw invalidProfile('The connection profile is invalid', problems);
}

/**
 * A profile read back from a table (a connection's, or a run's copy). Unknown keys, which earlier
 * versions dropped on save, are dropped again. Rules added since it was saved (RE2 patterns, no
 * credentials in URLs) come back as problems rather than failing the read, and a URL's credentials
 * are removed, so the profile still lists, shows no password, and refuses to run until saved again.
 * Only a profile of the wrong shape (a row edited by hand) throws.
 */
export function readStoredProfile(stored: unknown): { profile: ConnectionProfile; problems: FieldProblem[] } {
  let parsed = connectionProfileSchema.safeParse(stored);
  if (!parsed.success) parsed = connectionProfileSchema.safeParse(withoutUnknownKeys(stored, parsed.error.issues));
  if (!parsed.success) throw invalidProfile('The stored connection profile is invalid', issueProblems(parsed.error.issues, schemaFor(stored)));
  return { profile: withoutUrlCredentials(parsed.data), problems: ruleProblems(parsed.data) };
}

export function invalidProfile(what: string, problems: FieldProblem[]): AppError {
  return new AppError('profile-invalid', `${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: { problems } });
}

/** The schema of the input's type, for the keys it knows; all types' when the type is not one. */
function schemaFor(input: unknown): z.ZodType {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  return connectionProfileSchema.options.find((option) => option.shape.type.value === type) ?? connectionProfileSchema;
}

export function newDirectoryKey(): string {
  // Lowercase letters and digits only: it becomes part of table partition keys.
  return `dk${randomBytes(6).toString('hex')}`;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
