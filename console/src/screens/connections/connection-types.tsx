import { Link } from 'react-router-dom';

/** The kinds of directory a connection reads (or is pushed by), as an admin choosing one needs them explained. */
export const CONNECTION_TYPES = [
  {
    type: 'csv',
    label: 'CSV export',
    explain:
      'A file your HR system exports: uploaded here, or fetched from its web server over HTTPS. It needs username, email, first name and last name columns; other columns become attributes.',
  },
  {
    type: 'entra',
    label: 'Microsoft Entra ID',
    explain: 'A Microsoft Entra ID tenant, read through Microsoft Graph by an app registration: the members of the security groups you pick.',
  },
  {
    type: 'okta',
    label: 'Okta',
    explain: 'An Okta org, read with an API token or an OAuth service app: the members of the groups you pick.',
  },
  {
    type: 'scim',
    label: 'SCIM (pushed)',
    explain: 'Microsoft Entra provisioning or Okta pushes its users and groups to this app at /scim/v2/{name}, with a bearer token you keep in an app setting: changes arrive as they happen, nothing runs on a schedule.',
  },
] as const;

export type ConnectionType = (typeof CONNECTION_TYPES)[number]['type'];

export function isConnectionType(type: string | null): type is ConnectionType {
  return CONNECTION_TYPES.some((choice) => choice.type === type);
}

/** A link to add each type of connection, with what it reads. */
export function ConnectionTypeChoices() {
  return (
    <ul className="choices">
      {CONNECTION_TYPES.map(({ type, label, explain }) => (
        <li key={type}>
          <Link to={`/connections/new?type=${type}`}>Add a {label} connection</Link>
          <p className="muted">{explain}</p>
        </li>
      ))}
    </ul>
  );
}
