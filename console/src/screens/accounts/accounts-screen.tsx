import { canChange, useSession } from '../../session.js';
import { LocalAccounts } from './local-accounts.js';
import { LocalGroups } from './local-groups.js';

/** Local accounts and groups: what an admin keeps beside the directories. A Reader sees them, and no control that changes them. */
export function AccountsScreen() {
  const admin = canChange(useSession());
  return (
    <section aria-labelledby="accounts-title">
      <h1 id="accounts-title">Local accounts &amp; groups</h1>
      <LocalAccounts admin={admin} />
      <LocalGroups admin={admin} />
    </section>
  );
}
