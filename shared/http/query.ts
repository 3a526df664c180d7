import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/** Azure Functions takes the function key from `?code=`: the host's parameter, on every route. */
const FUNCTION_KEY = 'code';

/**
 * The query of a request: each parameter the operation takes from it (`keys`), decoded to its field's type
 * and checked with its field's schema. Every problem is listed at once: a value that does not parse, a
 * parameter the route does not know, or one given more than once (which value would win is a guess).
 */
export function parseQuery(query: URLSearchParams, schema: z.ZodObject, keys: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const problems: { field: string; message: string }[] = [];
  for (const name of new Set(query.keys())) {
    if (name === FUNCTION_KEY) continue;
    const given = query.getAll(name);
    const field = keys.includes(name) ? schema.shape[name] : undefined;
    if (!field) problems.push({ field: name, message: `unknown parameter (${keys.length ? `known: ${keys.join(', ')}` : 'this route takes none'})` });
    else if (given.length > 1) problems.push({ field: name, message: 'given more than once' });
    else {
      values[name] = fromQueryString(field, given[0]!);
      const checked = field.safeParse(values[name]);
      for (const issue of checked.error?.issues ?? []) problems.push({ field: [name, ...issue.path].join('.'), message: issue.message });
    }
  }
  if (problems.length) {
    throw new AppError('query-invalid', `The query is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`, { details: { problems } });
  }
  return values;
}

/**
 * A query value as its field's type: a flag is `true` or `false` and nothing else (`dryRun=1` must not start
 * a real run), a number is digits. Anything else stays text, for the field's schema to refuse in its words.
 */
function fromQueryString(field: z.ZodType, value: string): unknown {
  let base = field;
  while (base instanceof z.ZodOptional || base instanceof z.ZodDefault) base = base.unwrap() as z.ZodType;
  if (base instanceof z.ZodBoolean) return value === 'true' ? true : value === 'false' ? false : value;
  if (base instanceof z.ZodNumber) return /^\d+$/.test(value) ? Number(value) : value;
  return value;
}
