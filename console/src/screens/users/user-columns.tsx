import { Link } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { segment } from '../../api/client.js';
import { columnsOf } from '../../components/data-table.js';
import { connectionLabel } from '../../format.js';

/** A user as the API shows one (never a password hash); the columns the users list and a group's members share. */
export type User = OutputOf<'users.get'>;

export const userColumn = columnsOf<User>();

export const USERNAME = userColumn.accessor('username', {
  header: 'Username',
  cell: (info) => <Link to={`/users/${segment(info.getValue())}`}>{info.getValue()}</Link>,
});
export const NAME = userColumn.accessor((user) => `${user.firstName} ${user.lastName}`, { id: 'name', header: 'Name' });
export const EMAIL = userColumn.accessor('email', { header: 'Email' });
export const STATUS = userColumn.accessor('status', { header: 'Status', cell: (info) => <StatusBadge status={info.getValue()} /> });
export const CONNECTION = userColumn.accessor('connection', { header: 'Connection', cell: (info) => connectionLabel(info.getValue()) });

export const userId = (user: User) => `${user.directoryKey}/${user.key}`;

export function StatusBadge({ status }: { status: User['status'] }) {
  return <span className={`status status-${status}`}>{status}</span>;
}
