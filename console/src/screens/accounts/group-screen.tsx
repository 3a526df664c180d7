import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, segment } from '../../api/client.js';
import { useAction } from '../../api/use-action.js';
import { useApiGet } from '../../api/use-api.js';
import { DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';
import { Problem } from '../../components/problem.js';
import { TextField } from '../../components/text-field.js';
import { LOCAL } from '../../format.js';
import { canChange, useSession } from '../../session.js';
import { NAME, STATUS, USERNAME, userColumn, userId, type User } from '../users/user-columns.js';
import { groupKind, type Group } from './local-groups.js';

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function AddMemberForm({ group, onAdded }: { group: string; onAdded(username: string): void }) {
  const action = useAction();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const username = String(new FormData(form).get('username') ?? '').trim();
    if (await action.run(async () => void (await api('PUT', `groups/${segment(group)}/members/${segment(username)}`)))) {
      form.reset();
      onAdded(username);
    }
  }
  return (
    <form onSubmit={(event) => void submit(event)} aria-labelledby="add-member-title" noValidate className="toolbar">
      <h2 id="add-member-title" className="visually-hidden">
        Add a member
      </h2>
      <TextField id="member-username" name="username" label="Username" hint="Any user: a local account or a directory's user" required autoComplete="off" />
      {action.problem ? <Problem problem={action.problem} /> : null}
      <button type="submit" className="primary" disabled={action.busy}>
        Add member
      </button>
    </form>
  );
}

/** A group's members (GET /groups/{name}/members); a local group's are added and taken out here by an admin. */
export function GroupScreen() {
  const name = useParams().name ?? '';
  const admin = canChange(useSession());
  const groups = useApiGet<Group[]>('groups');
  const members = useApiGet<User[]>(`groups/${segment(name)}/members`);
  const { reload } = members;
  const [message, setMessage] = useState('');
  const action = useAction();
  const { run } = action;
  const group = groups.loaded.state === 'ready' ? groups.loaded.data.find((g) => same(g.name, name)) : undefined;
  const local = group?.origin === LOCAL;

  const columns = useMemo(() => {
    const membership = userColumn.accessor((user) => ((user.localGroups ?? []).some((g) => same(g, name)) ? 'Local' : 'From the directory'), {
      id: 'membership',
      header: 'Membership',
    });
    if (!admin || !local) return [USERNAME, NAME, STATUS, membership];
    const remove = async (user: User) => {
      if (await run(async () => void (await api('DELETE', `groups/${segment(name)}/members/${segment(user.username)}`)))) {
        setMessage(`${user.username} left ${name}.`);
        reload();
      }
    };
    const actions = userColumn.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) =>
        (info.row.original.localGroups ?? []).some((g) => same(g, name)) ? (
          <button type="button" onClick={() => void remove(info.row.original)}>
            Remove<span className="visually-hidden"> {info.row.original.username}</span>
          </button>
        ) : null,
    });
    return [USERNAME, NAME, STATUS, membership, actions];
  }, [admin, local, name, run, reload]);

  return (
    <section aria-labelledby="group-title">
      <p>
        <Link to="/accounts">← Local accounts &amp; groups</Link>
      </p>
      <h1 id="group-title">Group {group?.name ?? name}</h1>
      {group ? <p className="muted">{groupKind(group)}</p> : null}
      {group && !local ? <p className="notice">Its directory's sync keeps its members: change them in the directory.</p> : null}
      <p aria-live="polite" className="ok">
        {message}
      </p>
      {action.problem ? <Problem problem={action.problem} /> : null}
      {admin && local ? (
        <AddMemberForm
          group={name}
          onAdded={(username) => {
            setMessage(`${username} added to ${name}.`);
            reload();
          }}
        />
      ) : null}
      <LoadState loaded={members.loaded} retry={reload}>
        {(users) =>
          users.length ? (
            <DataTable caption={`Members of ${group?.name ?? name}`} columns={columns} rows={users} rowId={userId} />
          ) : (
            <p className="notice">No members yet.{admin && local ? ' Add one by username above.' : ''}</p>
          )
        }
      </LoadState>
    </section>
  );
}
