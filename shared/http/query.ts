import { z } from 'zod';
import type { FieldProblem } from '../connections/profile.js';
import { AppError } from '../errors/app-error.js';

/** Azure Functions takes the function key from `?code=`: the host's parameter, on every route. */
const FUNCTION_KEY = 'code';

/** A boolean parameter is `true` or `false`, nothing else: `dryRun=1` must not start a real run. */
export const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');

export const text = z.string().min(1, 'must not be empty');

export const pageLimit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .pipe(z.number().min(1, 'must be a whole number from 1 to 1000').max(1000, 'must be a whole number from 1 to 1000'));

/** A route's query: the parameters it knows; anything else is refused by name. */
export type QuerySchema = z.ZodObject;

export const NO_QUERY = z.strictObject({});

/**
 * Validates a query against a route's schema, listing every problem at once: a value that does not parse,
 * a parameter the route does not know, or one given more than once (which value would win is a guess).
 */
export function parseQuery<S extends QuerySchema>(schema: S, query: URLSearchParams): z.output<S> {
  const values: Record<string, string> = {};
  const problems: FieldProblem[] = [];
  for (const name of new Set(query.keys())) {
    if (name === FUNCTION_KEY) continue;
    const given = query.getAll(name);
    if (given.length > 1) problems.push({ field: name, message: 'given more than once' });
    else values[name] = given[0]!;
  }
  const parsed = schema.safeParse(values);
  if (parsed.success && problems.length === 0) return parsed.data;
  const known = Object.keys(schema.shape);
  for (const issue of parsed.error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: key, message: `unknown parameter (${known.length ? `known: ${known.join(', ')}` : 'this route takes none'})` });
    } else {
      problems.push({ field: issue.path.join('.'), message: issue.message });
    }
  }
  throw new AppError('query-invalid', `The query is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`, { details: { problems } });
}
