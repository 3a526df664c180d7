import { useMemo, useState } from 'react';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment } from '../../api/client.js';
import { useAction } from '../../api/use-action.js';
import { useApiGet } from '../../api/use-api.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';
import { Problem } from '../../components/problem.js';
import { EMAIL, NAME, STATUS, USERNAME, userColumn, userId } from '../users/user-columns.js';
import { CreateAccountForm } from './create-account-form.js';
import { OneTimePasswordDialog } from './one-time-password-dialog.js';

type Account = OutputOf<'localAccounts.list'>[number];

const PASSWORD = userColumn.accessor((account) => (account.mustChangePassword ? 'One-time' : ''), {
  id: 'password',
  header: 'Password',
  cell: (info) => (info.getValue() ? 'One-time: to change at next sign-in' : ''),
});
const READ_COLUMNS = [USERNAME, NAME, EMAIL, STATUS, PASSWORD];

type Pending = { kind: 'delete' | 'password'; account: Account };

/** Local accounts (GET /local-accounts): created, disabled and enabled, given a one-time password, deleted by an admin. */
export function LocalAccounts({ admin }: { admin: boolean }) {
  const { loaded, reload } = useApiGet<Account[]>('local-accounts');
  const [pending, setPending] = useState<Pending>();
  const [message, setMessage] = useState('');
  const action = useAction();
  const { run } = action;

  const columns = useMemo(() => {
    if (!admin) return READ_COLUMNS;
    const toggle = async (account: Account) => {
      const change = account.status === 'disabled' ? 'enable' : 'disable';
      const done = await run(async () => {
        const changed = await api<Account>('POST', `local-accounts/${segment(account.username)}/${change}`);
        setMessage(`${changed.username} is now ${changed.status}.`);
      });
      if (done) reload();
    };
    const actions = userColumn.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) => {
        const account = info.row.original;
        return (
          <div className="row-actions">
            <button type="button" onClick={() => void toggle(account)}>
              {account.status === 'disabled' ? 'Enable' : 'Disable'}
              <span className="visually-hidden"> {account.username}</span>
            </button>
            <button type="button" onClick={() => setPending({ kind: 'password', account })}>
              Set one-time password<span className="visually-hidden"> for {account.username}</span>
            </button>
            <button type="button" className="danger" onClick={() => setPending({ kind: 'delete', account })}>
              Delete<span className="visually-hidden"> {account.username}</span>
            </button>
          </div>
        );
      },
    });
    return [...READ_COLUMNS, actions];
  }, [admin, run, reload]);

  async function remove(account: Account) {
    await api('DELETE', `local-accounts/${segment(account.username)}`);
    setPending(undefined);
    setMessage(`Local account ${account.username} deleted; its username is free.`);
    reload();
  }

  return (
    <section aria-labelledby="local-accounts-title">
      <h2 id="local-accounts-title">Local accounts</h2>
      <p className="muted">Accounts an admin creates here, beside the directories' users; a sync never changes them. They count against the licence limit while active.</p>
      <p aria-live="polite" className="ok">
        {message}
      </p>
      {action.problem ? <Problem problem={action.problem} /> : null}
      <LoadState loaded={loaded} retry={reload}>
        {(accounts) =>
          accounts.length ? (
            <DataTable caption="Local accounts" columns={columns} rows={accounts} rowId={userId} />
          ) : (
            <p className="notice">There are no local accounts.{admin ? ' Add one below: for a contractor or a service desk account that no directory holds.' : ''}</p>
          )
        }
      </LoadState>
      {admin ? <CreateAccountForm onCreated={reload} /> : null}
      {pending?.kind === 'delete' ? (
        <ConfirmDialog title={`Delete ${pending.account.username}?`} confirmLabel="Delete account" danger onConfirm={() => remove(pending.account)} onCancel={() => setPending(undefined)}>
          <p>
            The account is deleted for good: its username and its licence become free. Its history stays in the audit trail. To stop someone signing in for now, disable the account
            instead.
          </p>
        </ConfirmDialog>
      ) : null}
      {pending?.kind === 'password' ? (
        <OneTimePasswordDialog
          username={pending.account.username}
          onClose={() => {
            setPending(undefined);
            reload();
          }}
        />
      ) : null}
    </section>
  );
}
