import { useEffect, useState } from 'react';
import type { OutputOf } from '../../shared/admin/operations.js';
import { api, ApiProblem } from './api/client.js';

/** Who is signed in (GET /api/me): the actor the audit trail records, a name to show and the roles the API grants. */
export type Me = OutputOf<'session.me'>;

export type Session = { state: 'loading' } | { state: 'ready'; me: Me } | { state: 'error'; problem: ApiProblem };

let pending: Promise<Me> | undefined;

/** The signed-in admin, asked once per page load. */
export function useSession(): Session {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    pending ??= api<Me>('GET', 'me');
    pending.then(
      (me) => live && setSession({ state: 'ready', me }),
      (error: unknown) => live && setSession({ state: 'error', problem: error instanceof ApiProblem ? error : new ApiProblem(0, 'unexpected', String(error)) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return session;
}

/** Whether the signed-in admin may change things (UserSync.Admin); a Reader sees no control that changes state. */
export function canChange(session: Session): boolean {
  return session.state === 'ready' && session.me.roles.includes('UserSync.Admin');
}
