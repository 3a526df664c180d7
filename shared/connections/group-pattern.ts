import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';
import { AppError } from '../errors/app-error.js';

/**
 * Group-name patterns run in RE2 (re2js, pure JavaScript), whose matching time is linear in the name
 * whatever the pattern: no pattern an admin saves can hang a sync, which detection heuristics for
 * JavaScript's backtracking engine could not promise. Case-sensitive unless the pattern says `(?i)`;
 * `.` and `\p{…}` work on code points, as with JavaScript's `u` flag.
 */
export interface GroupPattern {
  /** True when the pattern matches anywhere in the name (unanchored, as `RegExp.test`). */
  test(name: string): boolean;
}

const SEE_README = 'group patterns use RE2 syntax (linear time) — see README';

/** Longer patterns are refused by the schema before they are compiled (compiling is linear, not free). */
export const MAX_GROUP_PATTERN_LENGTH = 200;

/** Why RE2 cannot take this pattern, as a sentence for the admin; undefined when it compiles. */
export function groupPatternProblem(pattern: string): string | undefined {
  const result = compileOrExplain(pattern);
  return typeof result === 'string' ? result : undefined;
}

const compiled = new Map<string, GroupPattern>();
/** Profiles hold few distinct patterns; the bound only keeps a long-lived host from collecting stale ones. */
const MAX_COMPILED = 64;

/** The compiled pattern, compiled once per pattern (matching runs for every user of a run). */
export function groupPattern(pattern: string): GroupPattern {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const result = compileOrExplain(pattern);
  // Only a profile stored before patterns had to be RE2 gets here: starting a run refuses those.
  if (typeof result === 'string') throw new AppError('profile-invalid', `The connection profile is invalid: groups.pattern: ${result}`);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, result);
  return result;
}

function compileOrExplain(pattern: string): RE2JS | string {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    return explain(error);
  }
}

function explain(error: RE2JSException): string {
  if (!(error instanceof RE2JSSyntaxException)) return `the pattern does not compile: ${error.message}; ${SEE_README}`;
  const input = error.input ?? '';
  const backReference = /^\\(?:[1-9]|k)/.exec(input)?.[0];
  if (backReference) return `back-references (${backReference}) are not supported; ${SEE_README}`;
  const lookAround = /^\(\?<?[=!]/.exec(input)?.[0];
  if (lookAround) return `look-around (${lookAround}…)) is not supported; ${SEE_README}`;
  const near = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return `the pattern does not compile: ${error.error}${near ? ` at \`${near}\`` : ''}; ${SEE_README}`;
}
