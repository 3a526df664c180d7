import { z } from 'zod';
import { ANYONE, defineOperation } from './operation.js';

/** Who is asking, as the console's header shows it: the actor the audit trail records, a name to read, the roles. */
export interface Me {
  actor: string;
  name: string;
  roles: string[];
}

/** The actor in words: a person's UPN, an app's id, the local host's or the CLI's admin. */
export function displayName(actor: string): string {
  const [kind, ...rest] = actor.split(':');
  const id = rest.join(':');
  if (kind === 'user' && id) return id;
  if (kind === 'app' && id) return `an app (${id})`;
  if (kind === 'cli' && id) return `${id} (command line)`;
  if (actor === 'api') return 'local admin';
  if (actor === 'anonymous') return 'no one signed in';
  return actor;
}

export const sessionOperations = {
  /** Open to every caller, one with no role too: the console says who is signed in, and what to ask for. */
  'session.me': defineOperation({
    role: ANYONE,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'me' },
    run: async ({ caller }): Promise<Me> => ({ actor: caller.actor, name: displayName(caller.actor), roles: [...caller.roles] }),
  }),
};
