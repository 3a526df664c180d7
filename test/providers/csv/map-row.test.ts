import { describe, expect, it } from 'vitest';
import { parseProfile, type CsvProfile } from '../../../shared/connections/profile.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { mapErrorRecord, mapRow, planColumns } from '../../../shared/providers/csv/map-row.js';

function profile(overrides: Record<string, unknown> = {}): CsvProfile {
  const parsed = parseProfile({ name: 'hr', type: 'csv', source: { kind: 'blob', blobName: 'users.csv' }, ...overrides });
  if (parsed.type !== 'csv') throw new Error('expected a CSV profile');
  return parsed;
}

function headerError(header: string[], settings: Record<string, unknown> = {}): AppError {
  try {
    planColumns(header, profile(settings));
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('planColumns accepted the header');
}

const BASIC = ['username', 'email', 'firstName', 'lastName'];

describe('planColumns', () => {
  it('recognises standard columns by their usual names, ignoring case, spaces, _, - and .', () => {
    const plan = planColumns(['User Name', 'E-Mail', 'given_name', 'SURNAME', ' Job.Title '], profile());
    expect(plan.columns).toEqual([
      { kind: 'field', field: 'username' },
      { kind: 'field', field: 'email' },
      { kind: 'field', field: 'firstName' },
      { kind: 'field', field: 'lastName' },
      { kind: 'attribute', name: 'Job.Title' },
    ]);
    expect(plan.matchIndex).toBe(0);
    expect(planColumns(['username', 'Mail', 'Forename', 'family name'], profile()).columns.map((c) => c.kind)).toEqual([
      'field',
      'field',
      'field',
      'field',
    ]);
  });

  it('marks the password, manager and groups columns and ignores unnamed columns', () => {
    const plan = planColumns([...BASIC, 'Password', 'Line Manager', 'Groups', ''], profile({ managerField: 'line_manager', groupsColumn: 'groups' }));
    expect(plan.columns.slice(4)).toEqual([{ kind: 'password' }, { kind: 'manager' }, { kind: 'groups' }, { kind: 'ignored' }]);
  });

  it('lets columnMap override the built-in names', () => {
    const plan = planColumns(
      ['login', 'Work Mail', 'First', 'Last', 'Mail', 'Cost Centre'],
      profile({ columnMap: { Login: 'username', 'work-mail': 'email', first: 'firstName', last: 'lastName', mail: 'privateMail', 'cost centre': 'costCenter' } }),
    );
    expect(plan.columns).toEqual([
      { kind: 'field', field: 'username' },
      { kind: 'field', field: 'email' },
      { kind: 'field', field: 'firstName' },
      { kind: 'field', field: 'lastName' },
      { kind: 'attribute', name: 'privateMail' },
      { kind: 'attribute', name: 'costCenter' },
    ]);
  });

  it('finds a match field that is an attribute', () => {
    const plan = planColumns([...BASIC, 'Employee ID'], profile({ matchField: 'employeeId' }));
    expect(plan.matchIndex).toBe(4);
    expect(plan.matchField).toBe('employeeId');
    const mapped = planColumns([...BASIC, 'Staff No'], profile({ matchField: 'employeeId', columnMap: { 'Staff No': 'employeeId' } }));
    expect(mapped.matchIndex).toBe(4);
  });

  it('names every missing required column, including the match field', () => {
    const error = headerError(['username', 'mail', 'dept'], { matchField: 'employeeId' });
    expect(error.code).toBe('csv-header-invalid');
    expect(error.details).toEqual({ missing: ['firstName', 'lastName', 'employeeId'] });
    expect(error.message).toBe(
      "The CSV header cannot be used: it has no column for firstName, lastName and employeeId. Rename the columns or map them in the profile's columnMap.",
    );
  });

  it('rejects two columns that map to the same field, saying which', () => {
    const error = headerError([...BASIC, 'Mail', 'Dept', 'dept']);
    expect(error.code).toBe('csv-header-invalid');
    expect(error.details).toEqual({
      duplicates: [
        { field: 'email', columns: ['email', 'Mail'] },
        { field: 'Dept', columns: ['Dept', 'dept'] },
      ],
    });
    expect(error.message).toContain('columns "email" and "Mail" both map to email');
    expect(error.message).toContain('columns "Dept" and "dept" both map to Dept');
  });
});

describe('mapRow', () => {
  const plan = planColumns(
    ['User Name', 'Email', 'First Name', 'Last Name', 'Department', 'Password', 'Manager', 'Groups', 'Phone'],
    profile({ managerField: 'Manager', groupsColumn: 'Groups' }),
  );

  it('maps a row to a user, trimming values and leaving out empty ones', () => {
    const entry = mapRow(plan, {
      line: 7,
      fields: [' Alice ', 'Alice@X.com', 'Alice', 'Liddell', ' Sales ', ' s3cret ', 'bob', 'staff;admins', '  '],
    });
    expect(entry).toStrictEqual({
      kind: 'user',
      key: 'alice',
      ref: 'row 7',
      user: {
        username: 'Alice',
        email: 'Alice@X.com',
        firstName: 'Alice',
        lastName: 'Liddell',
        active: true,
        attributes: { Department: 'Sales' },
        manager: 'bob',
        password: 's3cret',
        groups: ['staff', 'admins'],
      },
    });
  });

  it('splits the groups column on ; or |, trimming and dropping empty names', () => {
    const entry = mapRow(plan, { line: 4, fields: ['dan', 'd@x.com', 'Dan', 'D', '', '', '', ' Intranet-Sales | Intranet-All;; ', ''] });
    expect(entry).toMatchObject({ kind: 'user', user: { groups: ['Intranet-Sales', 'Intranet-All'] } });
  });

  it('leaves out empty standard fields, manager and password', () => {
    const entry = mapRow(plan, { line: 3, fields: ['carol', '', ' ', 'C', '', '', '', '', '555'] });
    expect(entry).toStrictEqual({ kind: 'user', key: 'carol', ref: 'row 3', user: { username: 'carol', lastName: 'C', active: true, attributes: { Phone: '555' } } });
  });

  it('keys by the match field, lower-cased', () => {
    const byId = planColumns([...BASIC, 'Employee ID'], profile({ matchField: 'employeeId' }));
    expect(mapRow(byId, { line: 2, fields: ['amy', 'a@x.com', 'Amy', 'Pond', ' E-12ab '] })).toMatchObject({
      kind: 'user',
      key: 'e-12ab',
      user: { attributes: { 'Employee ID': 'E-12ab' } },
    });
  });

  it('reports a wrong column count, with the key when the match column is in the row', () => {
    const basic = planColumns(BASIC, profile());
    expect(mapRow(basic, { line: 7, fields: ['Dave', 'd@x.com', 'Dave'] })).toStrictEqual({
      kind: 'invalid',
      key: 'dave',
      ref: 'row 7',
      reason: 'column-count',
      detail: 'row 7 has 3 columns; the header has 4',
    });
    const byId = planColumns([...BASIC, 'employeeId'], profile({ matchField: 'employeeId' }));
    expect(mapRow(byId, { line: 9, fields: ['erin'] })).toStrictEqual({
      kind: 'invalid',
      ref: 'row 9',
      reason: 'column-count',
      detail: 'row 9 has 1 column; the header has 5',
    });
  });

  it('reports a row without a match value, without a key', () => {
    expect(mapRow(plan, { line: 4, fields: ['  ', 'x@x.com', 'X', 'Y', '', '', '', '', ''] })).toStrictEqual({
      kind: 'invalid',
      ref: 'row 4',
      reason: 'missing-match-value',
      detail: 'row 4 has no username (column "User Name")',
    });
  });
});

describe('mapErrorRecord', () => {
  it('turns an unreadable record into a malformed-row entry without a key', () => {
    expect(mapErrorRecord({ line: 3, message: 'Unclosed quote starting on line 3' })).toStrictEqual({
      kind: 'invalid',
      ref: 'row 3',
      reason: 'malformed-row',
      detail: 'Unclosed quote starting on line 3',
    });
  });
});
