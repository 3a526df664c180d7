import { readdirSync, readFileSync } from 'node:fs';

/**
 * The templates under infra/, read as text: there is no Bicep compiler here. Line comments are dropped, so a
 * commented-out line never passes for a setting or a resource.
 */
const infraDir = new URL('../../infra/', import.meta.url);

/** A file under infra/, as written. */
export function infraText(path: string): string {
  return readFileSync(new URL(path, infraDir), 'utf8');
}

/** A Bicep file under infra/, without its line comments. */
export function bicepFile(path: string): string {
  return stripLineComments(infraText(path));
}

/** Every Bicep file under infra/ (modules included), by path. */
export function allBicepFiles(): Map<string, string> {
  const paths = readdirSync(infraDir, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.bicep'));
  return new Map(paths.map((path) => [path, bicepFile(path)]));
}

/** Drops `//` comments (a `//` inside a string such as 'https://…' follows a non-space and stays). */
function stripLineComments(text: string): string {
  return text.replace(/(^|\s)\/\/.*$/gm, '$1');
}

const closing = { '[': ']', '{': '}', '(': ')' } as const;

/**
 * The balanced group (`[…]`, `{…}` or `(…)`) that opens at the first `open` after `marker`, brackets inside strings
 * ('…', with \' escapes, and '''…''') left out of the count.
 */
export function groupAfter(text: string, marker: string, open: keyof typeof closing = '['): string {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`"${marker}" not found`);
  const close = closing[open];
  const start = text.indexOf(open, at + marker.length);
  let depth = 0;
  for (let index = start; index < text.length; index += 1) {
    if (text.startsWith("'''", index)) {
      index = text.indexOf("'''", index + 3) + 2;
    } else if (text[index] === "'") {
      for (index += 1; text[index] !== "'"; index += 1) if (text[index] === '\\') index += 1;
    } else if (text[index] === open) {
      depth += 1;
    } else if (text[index] === close && (depth -= 1) === 0) {
      return text.slice(start, index + 1);
    }
  }
  throw new Error(`unbalanced ${open} after "${marker}"`);
}

/** The bodies of every `resource name 'type@version' … = {…}` of one type in a file. */
export function resourceBodies(text: string, type: string): string[] {
  const heads = [...text.matchAll(new RegExp(`^resource \\w+ '${type.replace(/[./]/g, '\\$&')}@[^']+'[^\\n]*=`, 'gm'))];
  return heads.map((head) => groupAfter(text.slice(head.index), head[0], '{'));
}

/** The value expression of `key: …` on its own line within a block (the first one). */
export function valueOf(block: string, key: string): string | undefined {
  return new RegExp(`^\\s*'?${key}'?: (.+)$`, 'm').exec(block)?.[1]?.trim();
}
