/**
 * What a synced text value may hold, for every directory and for local accounts. Values reach tables,
 * audit records, the API and admins' terminals: a control character would be stored and printed raw
 * (an escape sequence rewrites or clears a terminal, a bidi override makes text read backwards), and a
 * username also names its user in URLs (`/api/users/{username}`) and across every directory.
 */

/** C0 controls (NUL, ESC…), DEL, C1 controls, and the bidi embedding, override and isolate characters. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** The same but tab, LF and CR: an attribute may hold a multi-line street address. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The first control character in `value` as `U+001B`, or undefined; `multiLine` allows tab and line breaks. */
export function controlCharacterIn(value: string, options: { multiLine?: boolean } = {}): string | undefined {
  const found = (options.multiLine ? CONTROL_BUT_LINE_BREAKS : CONTROL).exec(value);
  return found ? codePoint(found[0]) : undefined;
}

/**
 * At most 128 characters: more than any directory's login (an Entra UPN has at most 113, an Okta login
 * 100), short enough to show in full and to sit in a URL, and well inside a Table Storage key.
 */
export const USERNAME_MAX_LENGTH = 128;

/** A character a username may not hold: it holds letters and digits of any script (with their accents), and . _ - @ ' + # ! ^ ~ */
const NOT_USERNAME_CHARACTER = /[^\p{L}\p{M}\p{N}._@'+#!^~-]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** The rule in one sentence, for the messages that refuse a username (README.md says the same). */
export const USERNAME_RULE =
  `A username is 1–${USERNAME_MAX_LENGTH} letters, digits and . _ - @ ' + # ! ^ ~ (no spaces, / \\ % or ?), with at least one letter or digit.`;

/**
 * What is wrong with a (non-empty) username, as the end of a sentence starting with the username, or
 * undefined when it is fine. Entra UPNs (`o'neil@contoso.com`, `jo_contoso.com#EXT#@tenant.onmicrosoft.com`),
 * Okta logins and `josé.garcía` pass; `a/b`, `..` and names with spaces do not.
 */
export function usernameProblem(username: string): string | undefined {
  if (username.length > USERNAME_MAX_LENGTH) return `is ${username.length} characters long`;
  const bad = NOT_USERNAME_CHARACTER.exec(username);
  // Spaces and invisible characters by their code, the rest as they are.
  if (bad) return `contains ${/[\p{Z}\p{C}]/u.test(bad[0]) ? codePoint(bad[0]) : `"${bad[0]}"`}`;
  if (!LETTER_OR_DIGIT.test(username)) return 'has no letter or digit';
  return undefined;
}

function codePoint(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
