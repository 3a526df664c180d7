import { closestMatch } from 'leven';
import { z } from 'zod';
import { groupPatternProblem, MAX_GROUP_PATTERN_LENGTH } from './group-pattern.js';

/** One thing wrong with a profile: the dotted path of the field and a sentence; never the field's value. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * zod's issues as problems an admin can act on. An unknown key (a typo such as `colummMap`, which
 * would otherwise be ignored) is a problem of its own, with the nearest key the schema knows there.
 */
export function issueProblems(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): FieldProblem[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [{ field: issue.path.join('.') || '(profile)', message: issue.message }];
    const known = keysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const near = closestMatch(key, known, { maxDistance: Math.max(2, Math.floor(key.length / 3)) });
      return { field: [...issue.path, key].join('.'), message: near ? `unknown key (did you mean ${near}?)` : 'unknown key' };
    });
  });
}

/** The input without the keys zod did not recognise: how a profile saved by an older version reads back. */
export function withoutUnknownKeys(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(input);
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const holder = valueAt(copy, issue.path);
    if (isRecord(holder)) for (const key of issue.keys) delete holder[key];
  }
  return copy;
}

/** The URLs each type of profile holds, and where the credentials belong instead. */
const URL_FIELDS: Record<string, { path: string[]; advice: string }[]> = {
  csv: [{ path: ['source', 'url'], advice: 'put the username in source.username and the password in an app setting named by source.passwordSecret' }],
  entra: ['graphBaseUrl', 'authorityHost'].map((field) => ({ path: [field], advice: 'the app signs in with its credential (a secret or certificate named by an app setting)' })),
  okta: [{ path: ['orgUrl'], advice: 'the API token or private key belongs in an app setting named by credential' }],
};

/**
 * Rules a profile saved by an earlier version may break: checked on save like the schema, but on
 * read reported rather than thrown, so such a profile still lists (and runs refuse it).
 */
export function ruleProblems(input: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pattern = valueAt(input, ['groups', 'pattern']);
  const checkable = typeof pattern === 'string' && pattern.length > 0 && pattern.length <= MAX_GROUP_PATTERN_LENGTH;
  if (valueAt(input, ['groups', 'mode']) === 'regex' && checkable) {
    const problem = groupPatternProblem(pattern);
    if (problem) problems.push({ field: 'groups.pattern', message: problem });
  }
  for (const { path, advice } of urlFieldsOf(input)) {
    const url = valueAt(input, path);
    // The message names the field only: the URL itself would carry the password along.
    if (typeof url === 'string' && hasCredentials(url)) {
      problems.push({ field: path.join('.'), message: `the URL must not contain a username or password; ${advice}` });
    }
  }
  return problems;
}

/** The profile with every URL's user-info removed, so a stored password is never shown or used. */
export function withoutUrlCredentials<T>(profile: T): T {
  const copy = structuredClone(profile);
  for (const { path } of urlFieldsOf(copy)) {
    const holder = valueAt(copy, path.slice(0, -1));
    const key = path.at(-1)!;
    const url = isRecord(holder) ? holder[key] : undefined;
    if (!isRecord(holder) || typeof url !== 'string' || !hasCredentials(url)) continue;
    const clean = new URL(url);
    clean.username = '';
    clean.password = '';
    holder[key] = clean.href;
  }
  return copy;
}

function urlFieldsOf(input: unknown): { path: string[]; advice: string }[] {
  const type = valueAt(input, ['type']);
  return typeof type === 'string' ? (URL_FIELDS[type] ?? []) : [];
}

function hasCredentials(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.username !== '' || parsed.password !== '';
}

/** The keys an object schema knows at a path (every option's, under a union). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return keysAt(schema.unwrap() as z.ZodType, path);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap((option) => keysAt(option, path));
  if (!(schema instanceof z.ZodObject)) return [];
  if (path.length === 0) return Object.keys(schema.shape);
  const next = (schema.shape as Record<string, z.ZodType | undefined>)[String(path[0])];
  return next ? keysAt(next, path.slice(1)) : [];
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = isRecord(value) ? value[String(key)] : undefined;
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
