import type { CsvProfile, StandardField } from '../../connections/profile.js';
import { STANDARD_FIELDS } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { SourceEntry, SourceUser } from '../../sync/model.js';

/**
 * Turns CSV records into source entries: the header decides once what each column means (a column plan),
 * then every row is read through that plan.
 */

/** What one CSV column holds. */
export type ColumnTarget =
  | { kind: 'field'; field: StandardField }
  | { kind: 'attribute'; name: string }
  | { kind: 'password' }
  | { kind: 'manager' }
  /** Group names: not synced yet, and never an attribute. */
  | { kind: 'groups' }
  /** A column without a name (Excel's trailing delimiter). */
  | { kind: 'ignored' };

export interface ColumnPlan {
  header: string[];
  /** One target per header column. */
  columns: ColumnTarget[];
  /** The directory field that identifies a user (profile.matchField). */
  matchField: string;
  /** The column holding the match field. */
  matchIndex: number;
}

/** Header names each standard field is recognised by, normalised (see `normalise`). */
const FIELD_ALIASES: Record<StandardField, readonly string[]> = {
  username: ['username'],
  email: ['email', 'emailaddress', 'mail'],
  firstName: ['firstname', 'givenname', 'forename'],
  lastName: ['lastname', 'surname', 'familyname'],
};

/**
 * Works out what each header column holds. Throws csv-header-invalid when a required column is missing
 * or two columns map to the same field.
 */
export function planColumns(header: string[], profile: CsvProfile): ColumnPlan {
  const mapped = new Map(Object.entries(profile.columnMap).map(([column, field]) => [normalise(column), field]));
  const roles = new Map<string, ColumnTarget>();
  // Later entries win: explicit settings override the built-in names.
  for (const field of STANDARD_FIELDS) {
    for (const alias of FIELD_ALIASES[field]) roles.set(alias, { kind: 'field', field });
  }
  if (profile.groupsColumn !== undefined) roles.set(normalise(profile.groupsColumn), { kind: 'groups' });
  if (profile.managerField !== undefined) roles.set(normalise(profile.managerField), { kind: 'manager' });
  roles.set(normalise(profile.passwordColumn), { kind: 'password' });

  const columns = header.map((column): ColumnTarget => {
    const name = normalise(column);
    if (name === '') return { kind: 'ignored' };
    const target = mapped.get(name);
    if (target !== undefined) return fieldTarget(target);
    return roles.get(name) ?? { kind: 'attribute', name: column.trim() };
  });

  const matchTarget = fieldTarget(profile.matchField);
  const byTarget = new Map<string, { target: ColumnTarget; indexes: number[] }>();
  columns.forEach((target, index) => {
    if (target.kind === 'ignored') return;
    const id = targetId(target);
    const seen = byTarget.get(id);
    if (seen === undefined) byTarget.set(id, { target, indexes: [index] });
    else seen.indexes.push(index);
  });

  const required = [...STANDARD_FIELDS.map((field): ColumnTarget => ({ kind: 'field', field })), matchTarget];
  const missing = [...new Set(required.filter((target) => !byTarget.has(targetId(target))).map(targetName))];
  const duplicates = [...byTarget.values()]
    .filter(({ indexes }) => indexes.length > 1)
    .map(({ target, indexes }) => ({
      field: targetName(target),
      columns: indexes.map((index) => header[index] ?? ''),
    }));
  if (missing.length > 0 || duplicates.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`it has no column for ${listOf(missing)}`] : []),
      ...duplicates.map(({ field, columns: names }) => {
        const quoted = listOf(names.map((name) => `"${name}"`));
        return `columns ${quoted} ${names.length === 2 ? 'both' : 'all'} map to ${field}`;
      }),
    ];
    throw new AppError(
      'csv-header-invalid',
      `The CSV header cannot be used: ${problems.join('; ')}. ` +
        "Rename the columns or map them in the profile's columnMap.",
      { details: { ...(missing.length > 0 && { missing }), ...(duplicates.length > 0 && { duplicates }) } },
    );
  }
  const matchIndex = byTarget.get(targetId(matchTarget))?.indexes[0] ?? -1;
  return { header, columns, matchField: profile.matchField, matchIndex };
}

/** Reads one record through the plan. `ref` names the physical line the record starts on. */
export function mapRow(plan: ColumnPlan, record: { line: number; fields: string[] }): SourceEntry {
  const ref = `row ${record.line}`;
  const values = record.fields.map((field) => field.trim());
  const matchValue = values[plan.matchIndex];
  const key = matchValue ? matchValue.toLowerCase() : undefined;
  if (values.length !== plan.header.length) {
    return {
      kind: 'invalid',
      // With the key the user counts as present and is not disabled for a row they merely mistyped.
      ...(key !== undefined && { key }),
      ref,
      reason: 'column-count',
      detail: `${ref} has ${columnCount(values.length)}; the header has ${plan.header.length}`,
    };
  }
  if (key === undefined) {
    return {
      kind: 'invalid',
      ref,
      reason: 'missing-match-value',
      detail: `${ref} has no ${plan.matchField} (column "${plan.header[plan.matchIndex] ?? ''}")`,
    };
  }
  const user: SourceUser = { active: true, attributes: {} };
  plan.columns.forEach((target, index) => {
    const value = values[index];
    if (!value) return;
    switch (target.kind) {
      case 'field':
        user[target.field] = value;
        break;
      case 'attribute':
        user.attributes[target.name] = value;
        break;
      case 'password':
        user.password = value;
        break;
      case 'manager':
        user.manager = value;
        break;
      case 'groups':
        // `Intranet-Sales;Intranet-All` (or `|`-separated, for `;`-delimited files).
        user.groups = value.split(/[;|]/).map((group) => group.trim()).filter(Boolean);
        break;
      case 'ignored':
        break;
    }
  });
  return { kind: 'user', key, ref, user };
}

/** A record the reader could not parse (a broken quote…). */
export function mapErrorRecord(error: { line: number; message: string }): SourceEntry {
  return { kind: 'invalid', ref: `row ${error.line}`, reason: 'malformed-row', detail: error.message };
}

/** Column and field names compare case-insensitively, ignoring spaces, `_`, `-` and `.`. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]/g, '');
}

/** A directory field name (a columnMap target or the match field) as a column target. */
function fieldTarget(name: string): ColumnTarget {
  const field = STANDARD_FIELDS.find((standard) => normalise(standard) === normalise(name));
  return field === undefined ? { kind: 'attribute', name } : { kind: 'field', field };
}

/** Identity of a target: two columns with the same id map to the same thing. */
function targetId(target: ColumnTarget): string {
  switch (target.kind) {
    case 'field':
      return target.field;
    case 'attribute':
      return `attribute:${normalise(target.name)}`;
    default:
      return target.kind;
  }
}

function targetName(target: ColumnTarget): string {
  switch (target.kind) {
    case 'field':
      return target.field;
    case 'attribute':
      return target.name;
    default:
      return `the ${target.kind} column`;
  }
}

function columnCount(count: number): string {
  return count === 1 ? '1 column' : `${count} columns`;
}

/** "a", "a and b", "a, b and c". */
function listOf(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
