import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment } from '../../api/client.js';
import { useAction } from '../../api/use-action.js';
import { useApiGet } from '../../api/use-api.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';
import { FormEnd } from '../../components/form-end.js';
import { TextField } from '../../components/text-field.js';
import { Time } from '../../components/time.js';
import { LOCAL } from '../../format.js';

export type Group = OutputOf<'groups.list'>[number];

const column = columnsOf<Group>();
const READ_COLUMNS = column.columns([
  column.accessor('name', { header: 'Group', cell: (info) => <Link to={`/accounts/groups/${segment(info.getValue())}`}>{info.getValue()}</Link> }),
  column.accessor((group) => groupKind(group), { id: 'kind', header: 'Kind' }),
  column.accessor('createdAt', { header: 'Created', cell: (info) => <Time iso={info.getValue()} /> }),
]);

export function groupKind(group: Group): string {
  return group.origin === LOCAL ? 'Local group' : `From the directory "${group.connection}"`;
}

const groupId = (group: Group) => group.name.toLowerCase();

function CreateGroupForm({ onCreated }: { onCreated(): void }) {
  const action = useAction();
  const [created, setCreated] = useState('');
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get('name') ?? '');
    setCreated('');
    if (await action.run(async () => void (await api('POST', 'groups', { body: { name } })))) {
      form.reset();
      setCreated(name.trim());
      onCreated();
    }
  }
  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="create-group-title" noValidate>
      <h3 id="create-group-title">Add a local group</h3>
      <TextField id="group-name" name="name" label="Group name" required autoComplete="off" />
      <FormEnd action={action} done={created ? `Local group ${created} created.` : ''} submit="Add group" />
    </form>
  );
}

/**
 * Groups (GET /groups): local ones an admin creates, fills and deletes here; a directory's come with its
 * sync and are shown for reference. Members are on each group's page.
 */
export function LocalGroups({ admin }: { admin: boolean }) {
  const { loaded, reload } = useApiGet<Group[]>('groups');
  const [deleting, setDeleting] = useState<Group>();
  const [message, setMessage] = useState('');
  const columns = useMemo(() => {
    if (!admin) return READ_COLUMNS;
    const actions = column.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) =>
        info.row.original.origin === LOCAL ? (
          <button type="button" className="danger" onClick={() => setDeleting(info.row.original)}>
            Delete<span className="visually-hidden"> group {info.row.original.name}</span>
          </button>
        ) : null,
    });
    return [...READ_COLUMNS, actions];
  }, [admin]);

  async function remove(group: Group) {
    const answer = await api<OutputOf<'groups.delete'>>('DELETE', `groups/${segment(group.name)}`);
    setDeleting(undefined);
    setMessage(`Local group ${answer.name} deleted; ${answer.membersRemoved} member(s) left it.`);
    reload();
  }

  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      <p aria-live="polite" className="ok">
        {message}
      </p>
      <LoadState loaded={loaded} retry={reload}>
        {(groups) =>
          groups.length ? (
            <DataTable caption="Groups" columns={columns} rows={groups} rowId={groupId} />
          ) : (
            <p className="notice">There are no groups yet. A connection with group sync creates its directory's groups{admin ? '; add a local group below' : ''}.</p>
          )
        }
      </LoadState>
      {admin ? <CreateGroupForm onCreated={reload} /> : null}
      {deleting ? (
        <ConfirmDialog title={`Delete the group ${deleting.name}?`} confirmLabel="Delete group" danger onConfirm={() => remove(deleting)} onCancel={() => setDeleting(undefined)}>
          <p>Its members leave it first; the users themselves are not changed. Permissions elsewhere that name this group stop applying.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
