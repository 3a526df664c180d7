import type { UiSchema } from '@rjsf/utils';
import type { ConnectionType } from './connection-types.js';

/**
 * How each type's profile form reads (@rjsf/core uiSchema): labels, help, order and widgets over the JSON Schema
 * the API answers (GET /api/connection-schema). Secrets are never part of a profile: those fields name the app
 * setting that holds one.
 */

const SECRET = 'The name of an app setting (a Key Vault reference in Azure) that holds it — never the secret itself.';

const field = (title: string, help?: string, more: UiSchema = {}): UiSchema => ({ 'ui:title': title, ...(help ? { 'ui:help': help } : {}), ...more });
/** A choice between shapes (`oneOf`), labelled by its own picker (ChoiceWidget). */
const choice = (title: string, help: string | undefined, options: UiSchema[]): UiSchema => field(title, help, { 'ui:label': false, 'ui:widget': 'choice', oneOf: options });
const hidden: UiSchema = { 'ui:widget': 'hidden' };
const secret = (title: string) => field(title, SECRET);

const common: UiSchema = {
  name: field('Name', '1–64 letters, digits, spaces, dots, dashes or underscores. It names the connection everywhere (runs, audit).'),
  type: hidden,
  enabled: field('Enabled', 'A disabled connection does not run on its schedule.'),
  schedule: choice('Schedule', 'When it runs by itself. A manual sync within the 24 hours before a daily run replaces it.', [
    field('Off (manual only)', undefined, { kind: hidden }),
    field('Every hour', undefined, { kind: hidden }),
    field('Every N minutes', undefined, { kind: hidden, minutes: field('Minutes', 'At least 5.') }),
    field('Daily', undefined, { kind: hidden, hour: field('Hour (0–23)'), timeZone: field('Time zone', 'An IANA time zone, e.g. Europe/London.') }),
  ]),
  disableGuard: field(
    'Disable guard',
    'A run that would disable more than the maximum, or more than both the percentage of enabled users and the minimum, disables no one until an admin confirms it.',
    { maxPercent: field('Percentage of enabled users'), minCount: field('Minimum number of users'), maxCount: field('Maximum number of users') },
  ),
  groups: field('Group sync', undefined, {
    mode: field('Mode', 'Off leaves memberships alone; All or Regex make users’ groups follow the directory.', { 'ui:enumNames': ['Off', 'All groups', 'Groups whose name matches a pattern'] }),
    pattern: field('Pattern', 'An RE2 regular expression matched against each group name, e.g. ^Intranet-. No back-references or look-arounds.'),
    keepLocalGroups: field('Keep local group memberships', 'With group sync on, directory users leave local groups unless this is ticked.'),
  }),
};

const selectedGroups = field('Selected groups (ids)', 'Only members of these groups sync. Easier: save, then pick groups by name on the connection’s page.');
const attributeMap = field('Attribute mapping', 'Directory attribute → field in the intranet directory.');
const orgChart = field('Org chart', 'Link each user to their manager.');

const csv: UiSchema = {
  'ui:order': ['name', 'type', 'enabled', 'source', 'schedule', 'matchField', 'managerField', 'defaultPasswordSecret', 'passwordColumn', 'groupsColumn', 'groups', 'columnMap', 'delimiter', 'encoding', 'disableGuard'],
  source: choice('Where the file comes from', undefined, [
    field('A file uploaded here', 'Upload it on the connection’s page once saved.', { kind: hidden, blobName: field('File name', 'Where the uploaded file is kept, e.g. hr/people.csv.') }),
    field('A web server (HTTPS)', undefined, {
      kind: hidden,
      url: field('URL', 'https:// only; no username or password in the URL.'),
      username: field('Username (basic authentication)'),
      passwordSecret: secret('Password setting'),
    }),
  ]),
  matchField: field('Match field', 'The field that identifies a user across runs.'),
  managerField: field('Manager column', 'The column holding the username of the user’s manager.'),
  defaultPasswordSecret: secret('Default password setting'),
  passwordColumn: field('Password column', 'A column with new users’ passwords; rows without one get the default password.'),
  groupsColumn: field('Groups column', 'A column of group names separated by ; or |.'),
  columnMap: field('Column mapping', 'CSV column → field, for columns whose names differ from the directory’s fields (e.g. E-mail address → email).'),
  delimiter: field('Delimiter', 'Leave empty to detect it from the header line.', { 'ui:enumNames': ['Comma', 'Semicolon', 'Tab', 'Pipe'] }),
  encoding: field('Encoding', 'Leave empty to detect it.'),
};

const entra: UiSchema = {
  'ui:order': ['name', 'type', 'enabled', 'tenantId', 'clientId', 'credential', 'selectedGroups', 'includeMailEnabledGroups', 'usernameAttribute', 'schedule', 'guests', 'groups', 'orgChart', 'attributeMap', 'cloud', 'graphBaseUrl', 'authorityHost', 'listingConcurrency', 'disableGuard'],
  tenantId: field('Tenant', 'The directory (tenant) id, or a verified domain such as contoso.onmicrosoft.com.'),
  clientId: field('Application (client) id', 'Of the app registration that reads the directory.'),
  credential: choice('Credential', undefined, [
    field('Client secret', undefined, { kind: hidden, secretName: secret('Client secret setting') }),
    field('Certificate', undefined, { kind: hidden, certificateSecret: secret('Certificate setting (PEM with its private key)') }),
  ]),
  selectedGroups,
  includeMailEnabledGroups: field('Include mail-enabled groups'),
  usernameAttribute: field('Username from'),
  attributeMap,
  guests: field('Guest accounts', undefined, { 'ui:enumNames': ['Leave out', 'Include'] }),
  orgChart,
  cloud: field('Cloud', undefined, { 'ui:enumNames': ['Global', 'US Government', 'China (21Vianet)'] }),
  graphBaseUrl: field('Graph endpoint', 'Only to override the cloud’s.'),
  authorityHost: field('Sign-in endpoint', 'Only to override the cloud’s.'),
  listingConcurrency: field('Listing concurrency', 'How many page chains read the tenant at once (default 8, within Graph’s throttling limits; README “Scale”).'),
};

const okta: UiSchema = {
  'ui:order': ['name', 'type', 'enabled', 'orgUrl', 'credential', 'selectedGroups', 'usernameAttribute', 'schedule', 'groups', 'orgChart', 'attributeMap', 'listingConcurrency', 'disableGuard'],
  orgUrl: field('Org URL', 'e.g. https://example.okta.com'),
  credential: choice('Credential', undefined, [
    field('API token', 'Tokens expire after 30 days unused and end with the user who made them.', { kind: hidden, tokenSecret: secret('API token setting') }),
    field('Service app (private key)', undefined, {
      kind: hidden,
      clientId: field('Client id'),
      privateKeySecret: secret('Private key setting (PKCS#8 PEM)'),
      keyId: field('Key id'),
    }),
  ]),
  selectedGroups,
  usernameAttribute: field('Username from'),
  attributeMap,
  orgChart,
  listingConcurrency: field('Listing concurrency', 'How many page chains read the org at once (default 2, within Okta’s rate limits; README “Scale”).'),
};

const scim: UiSchema = {
  'ui:order': ['name', 'type', 'enabled', 'tokenSecret', 'groups', 'orgChart', 'attributeMap'],
  tokenSecret: secret('Bearer token setting'),
  attributeMap: field('Attribute mapping', 'SCIM attribute → field in the intranet directory, e.g. title → jobTitle, or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department → department.'),
  orgChart,
};

const BY_TYPE: Record<ConnectionType, UiSchema> = { csv, entra, okta, scim };

/** The form's uiSchema for a type; `editing`: the name is the connection's, not changed here. */
export function profileUiSchema(type: ConnectionType, editing: boolean): UiSchema {
  return {
    ...common,
    ...BY_TYPE[type],
    ...(editing ? { name: { ...common.name, 'ui:readonly': true, 'ui:help': 'A connection keeps its name.' } } : {}),
    'ui:submitButtonOptions': { submitText: 'Save connection' },
  };
}
