import { AppError } from '../errors/app-error.js';
import { ANONYMOUS, grants, type AdminServices, type Caller, type Operation } from './operation.js';
import { OPERATIONS, type OperationName, type OutputOf } from './operations.js';

/**
 * The one way an operation runs, whichever surface asked: the caller's role is checked (before the input
 * is even read: a caller without the role learns nothing from it), then the input against the schema,
 * then the use case. `readInput` builds the input (the HTTP API parses the request only now).
 */
export async function perform<K extends OperationName>(services: AdminServices, caller: Caller, name: K, readInput: () => unknown): Promise<OutputOf<K>> {
  const operation: Operation = OPERATIONS[name];
  if (!grants(caller.roles, operation.role)) {
    throw new AppError(
      'forbidden',
      `This needs the ${operation.role} role (${name}); ${caller.actor} has ${caller.roles.length ? caller.roles.join(', ') : 'no role of this app'}. ` +
        (caller.actor === ANONYMOUS.actor
          ? 'Nothing identified this request: the app knows its callers only through App Service authentication (Easy Auth) with an Entra token for its API.'
          : "Ask an admin of the app's enterprise application to assign it."),
      { details: { role: operation.role } },
    );
  }
  const parsed = operation.input.safeParse(readInput());
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'unknown field' }))
        : [{ field: issue.path.join('.') || '(input)', message: issue.message }],
    );
    throw new AppError('input-invalid', `The input is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`, { details: { problems } });
  }
  return (await operation.run({ ...services, caller }, parsed.data)) as OutputOf<K>;
}
