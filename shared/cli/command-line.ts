import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';

export type Flags = Record<string, string | number | boolean | undefined>;

/** A flag whose value is checked (and converted) before the command runs: `means` completes "--limit takes …". */
export interface CheckedValue {
  value: string;
  schema: z.ZodType<string | number>;
  means: string;
}

export interface CommandInput {
  /** The positional arguments after the command's words, in the order of `args`. */
  args: string[];
  flags: Flags;
}

/** One CLI command. Its usage line is made from this, and so is what the parser accepts: they cannot drift apart. */
export interface CommandSpec<Context> {
  /** The words that name it: `connection put`. */
  words: string;
  /** Positional arguments: `NAME` is required, `[NAME]` optional. */
  args?: string[];
  /** Flags: `true` for a switch (`--dry-run`), the name of its value (`--from-run RUN_ID`), or a checked value. */
  flags?: Record<string, true | string | CheckedValue>;
  /** Flags that must be given. */
  required?: string[];
  /** What it does, a line or two. */
  help: string;
  run: (input: CommandInput, context: Context) => Promise<number>;
}

export type Resolved<Context> = { help: string } | { spec: CommandSpec<Context>; input: CommandInput };

/** `--dry-run`, `--from-run RUN_ID`. */
function flagText(name: string, flag: true | string | CheckedValue | undefined): string {
  if (flag === true || flag === undefined) return `--${name}`;
  return `--${name} ${typeof flag === 'string' ? flag : flag.value}`;
}

export function usageLine<Context>(spec: CommandSpec<Context>): string {
  const flags = Object.entries(spec.flags ?? {}).map(([name, value]) => (spec.required?.includes(name) ? flagText(name, value) : `[${flagText(name, value)}]`));
  return ['usersync', spec.words, ...(spec.args ?? []), ...flags].join(' ');
}

/** Each command's usage line and what it does (on the same line when there is room). */
export function usageOf<Context>(specs: readonly CommandSpec<Context>[]): string {
  const column = 43;
  return specs
    .flatMap((spec) => {
      const line = `  ${usageLine(spec)}`;
      const help = spec.help.split('\n').map((text) => `${' '.repeat(column)}${text}`);
      if (line.length < column - 1) help[0] = line.padEnd(column) + (help[0] ?? '').trimStart();
      else help.unshift(line);
      return help;
    })
    .join('\n');
}

/** The options every command takes, wherever they stand before `--`: which app to act on (cli.ts, USAGE). */
export interface GlobalOptions {
  url?: string;
  scope?: string;
}

const GLOBAL_OPTIONS = ['url', 'scope'] as const;

/** Takes the global options (`--url URL`, `--url=URL`) out of `argv`, leaving the command's own words and flags. */
export function takeGlobalOptions(argv: readonly string[], usage: string): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const name = GLOBAL_OPTIONS.find((option) => arg === `--${option}` || arg.startsWith(`--${option}=`));
    if (!name) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
    if (!value) throw usageError(`--${name} needs a value.`, usage);
    if (options[name] !== undefined) throw usageError(`--${name} is given twice.`, usage);
    options[name] = value;
  }
  return { options, rest };
}

/**
 * Finds the command `argv` names and parses its arguments. `--help`/`-h` anywhere (before `--`) asks for
 * the command's usage. A mistake throws `usage-invalid` with the usage of the commands sharing its first
 * word in `details.usage`: the admin sees what was wrong and what is accepted.
 */
export function resolveCommand<Context>(specs: readonly CommandSpec<Context>[], argv: string[], fullUsage: string): Resolved<Context> {
  const [first, ...rest] = argv;
  if (first === undefined) throw usageError('Name a command.', fullUsage);
  if (first === 'help' || first === '--help' || first === '-h') {
    if (rest[0] === undefined) return { help: fullUsage };
    return resolveCommand(specs, [...rest, '--help'], fullUsage);
  }
  const group = specs.filter((spec) => spec.words.split(' ')[0] === first);
  if (!group.length) throw usageError(`There is no command "${first}".`, fullUsage);
  const groupUsage = `Usage:\n${usageOf(group)}`;
  const spec = group
    .filter((candidate) => candidate.words.split(' ').every((word, i) => argv[i] === word))
    .sort((a, b) => b.words.length - a.words.length)[0];
  const beforeTerminator = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (beforeTerminator.includes('--help') || beforeTerminator.includes('-h')) return { help: groupUsage };
  if (!spec) throw usageError(rest[0] === undefined ? `Say what to do with "${first}".` : `"${first} ${rest[0]}" is not a command.`, groupUsage);

  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv.slice(spec.words.split(' ').length),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries(spec.flags ?? {}).map(([name, value]) => [name, { type: value === true ? 'boolean' : 'string' }] as const)),
    });
  } catch (error) {
    // parseArgs says what is wrong with a flag ("Unknown option '--x'") in TypeErrors coded ERR_PARSE_ARGS_*.
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) {
      throw usageError(error.message.replaceAll('\n', ' '), groupUsage);
    }
    throw error;
  }
  const declared = spec.args ?? [];
  const needed = declared.filter((arg) => !arg.startsWith('['));
  const { positionals, values } = parsed;
  if (positionals.length < needed.length) throw usageError(`Missing ${needed[positionals.length]}.`, groupUsage);
  if (positionals.length > declared.length) throw usageError(`Unexpected argument "${positionals[declared.length]}".`, groupUsage);
  const missingFlag = spec.required?.find((name) => values[name] === undefined);
  if (missingFlag) throw usageError(`Missing ${flagText(missingFlag, spec.flags?.[missingFlag])}.`, groupUsage);
  const flags: Flags = { ...values };
  for (const [name, declaredFlag] of Object.entries(spec.flags ?? {})) {
    if (typeof declaredFlag !== 'object' || values[name] === undefined) continue;
    const checked = declaredFlag.schema.safeParse(values[name]);
    if (!checked.success) throw usageError(`--${name} takes ${declaredFlag.means}, not "${String(values[name])}".`, groupUsage);
    flags[name] = checked.data;
  }
  return { spec, input: { args: positionals, flags } };
}

function usageError(message: string, usage: string): AppError {
  return new AppError('usage-invalid', message, { details: { usage } });
}
