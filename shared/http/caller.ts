import { z } from 'zod';
import { ADMIN, ANONYMOUS, ROLES, type Caller, type Role } from '../admin/operation.js';

/**
 * Who vouches for an HTTP caller, decided once, where the HTTP function is made (functions/registry.ts):
 * - `easy-auth`: App Service authentication, which the platform says is on for this app
 *   (`WEBSITE_AUTH_ENABLED=True`, set by the platform, never an app setting). It validated the caller's Entra
 *   token and passes its claims in `x-ms-client-principal`, a header it strips from incoming requests: the
 *   header is trusted then, and only then;
 * - `local-host`: the local stand-in for the Functions host, listening on 127.0.0.1 only. Whoever reaches it
 *   is at this machine, next to the storage keys: an admin, whatever headers the request brings;
 * - `none`: nothing vouches (a deployment without Easy Auth): every request is anonymous, with no role, so
 *   every operation is refused — a forged principal header grants nothing.
 */
export type CallerTrust = 'easy-auth' | 'local-host' | 'none';

/** What the HTTP function reads of a request's headers (the Fetch API's Headers). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** The local host's caller: an admin through the API. */
export const LOCAL_ADMIN: Caller = { actor: 'api', roles: [ADMIN] };

/** Easy Auth's claims type for a role, unless the principal names another (`role_typ`); Entra's raw claim is `roles`. */
const ROLE_CLAIM_TYPE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

/** The decoded `x-ms-client-principal`: base64 JSON of the token's claims after Easy Auth's claim mapping. */
const principalSchema = z.object({
  auth_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});
type Principal = z.infer<typeof principalSchema>;

/** Claim types as Easy Auth passes them: the token's own names, or the URIs its mapping gives some of them. */
const CLAIMS = {
  scope: ['scp', 'http://schemas.microsoft.com/identity/claims/scope'],
  userName: ['preferred_username', 'upn', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'],
  appId: ['appid', 'azp'],
  objectId: ['oid', 'http://schemas.microsoft.com/identity/claims/objectidentifier'],
};

/**
 * The caller of one request. Through Easy Auth: its app roles of this app (other roles are ignored), and as
 * actor `user:<UPN>` for a user's token or `app:<application id>` for an app's own (client credentials:
 * automation). A principal that cannot be read or named is anonymous: no role.
 */
export function callerOf(trust: CallerTrust, headers: HeaderReader): Caller {
  if (trust === 'local-host') return LOCAL_ADMIN;
  if (trust === 'none') return ANONYMOUS;
  const principal = decodePrincipal(headers.get('x-ms-client-principal'));
  if (!principal) return ANONYMOUS;
  const objectId = claim(principal, CLAIMS.objectId);
  const actor = isAppOnly(principal)
    ? withPrefix('app', claim(principal, CLAIMS.appId) ?? objectId)
    : withPrefix('user', headers.get('x-ms-client-principal-name')?.trim() || claim(principal, [...CLAIMS.userName, principal.name_typ]) || objectId);
  return actor ? { actor, roles: rolesOf(principal) } : ANONYMOUS;
}

function decodePrincipal(header: string | null): Principal | undefined {
  if (!header) return undefined;
  try {
    return principalSchema.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  } catch {
    return undefined;
  }
}

/**
 * An app's own token (client credentials) rather than a person's: Entra marks it `idtyp: app` when asked to;
 * otherwise it names its client (`appid`, `azp`) and carries no scope (`scp`), which a user's access token always
 * does. A person signed in to the console in a browser comes as Easy Auth's session of an ID token: no scope,
 * and no client named either.
 */
function isAppOnly(principal: Principal): boolean {
  const idtyp = claim(principal, ['idtyp']);
  if (idtyp) return idtyp === 'app';
  return claim(principal, CLAIMS.scope) === undefined && claim(principal, CLAIMS.appId) !== undefined;
}

/** The first non-blank value of a claim of one of these types. */
function claim({ claims }: Principal, types: readonly (string | undefined)[]): string | undefined {
  return claims.find((c) => types.includes(c.typ) && c.val.trim())?.val.trim();
}

function rolesOf(principal: Principal): Role[] {
  const types = ['roles', principal.role_typ ?? ROLE_CLAIM_TYPE];
  const held = new Set(principal.claims.filter((c) => types.includes(c.typ)).map((c) => c.val));
  return ROLES.filter((role) => held.has(role));
}

function withPrefix(kind: 'user' | 'app', id: string | undefined): string | undefined {
  return id ? `${kind}:${id}` : undefined;
}
