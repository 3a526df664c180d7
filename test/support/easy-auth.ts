import { randomUUID } from 'node:crypto';

/**
 * What Easy Auth adds in front of the app for a person signed in to the console in a browser: its session
 * of an ID token (no scope, no client app named) as `x-ms-client-principal` — base64 JSON of the mapped claims,
 * app roles under the role claim type — and the name in `x-ms-client-principal-name`. No bearer token: a
 * browser sends the session cookie (shared/http/caller.ts, csrf.ts).
 */
export const ROLE_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
export const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export function browserSession(upn: string, roles: readonly string[]): Record<string, string> {
  const claims: [string, string][] = [
    ['aud', randomUUID()],
    ['name', upn.split('@')[0] ?? upn],
    ['preferred_username', upn],
    ['nonce', randomUUID()],
    ['ver', '2.0'],
    [OBJECT_ID_CLAIM, randomUUID()],
    ...roles.map((role): [string, string] => [ROLE_CLAIM, role]),
  ];
  const principal = { auth_typ: 'aad', claims: claims.map(([typ, val]) => ({ typ, val })), name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', role_typ: ROLE_CLAIM };
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'),
    'x-ms-client-principal-idp': 'aad',
    'x-ms-client-principal-name': upn,
    cookie: 'AppServiceAuthSession=opaque',
  };
}
