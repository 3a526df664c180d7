import { scimPatch, ScimError, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Entra capitalises `op` (`Replace`, `Add`, `Remove`); RFC 7644 §3.5.2 names them in lower case. */
const operation = z.looseObject({
  op: z.string().transform((op) => op.toLowerCase()).pipe(z.enum(['add', 'replace', 'remove'])),
  path: z.string().trim().min(1).optional(),
  value: z.unknown().optional(),
});

const patchBody = z.looseObject({
  schemas: z.array(z.string()).refine((schemas) => schemas.includes(PATCH_SCHEMA), `schemas must hold ${PATCH_SCHEMA}`),
  Operations: z.array(operation).min(1, 'Operations must hold at least one operation'),
});

export type PatchOperation = z.infer<typeof operation>;

/** A PATCH request's operations (RFC 7644 §3.5.2), in the spelling the library takes. */
export function patchOperationsOf(body: unknown): PatchOperation[] {
  const parsed = patchBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('body-invalid', `The PatchOp's ${issue.path.join('.') || 'body'} is not valid: ${issue.message}.`);
  }
  return parsed.data.Operations;
}

/**
 * The resource with the operations applied, by scim-patch (filtered paths such as `emails[type eq "work"].value`,
 * a value without `path` whose keys are paths). A `replace` of something absent adds it, as Entra expects.
 */
export function patched<T extends Record<string, unknown>>(resource: T, operations: readonly PatchOperation[]): T {
  try {
    const result = scimPatch(resource as unknown as ScimResource, operations as unknown as ScimPatchOperation[], { mutateDocument: false, treatMissingAsAdd: true });
    return result as unknown as T;
  } catch (error) {
    if (error instanceof ScimError) throw scimPatchError(error);
    throw error;
  }
}

/**
 * The library's refusal as ours: `noTarget` (a removal without a path, a filter that matches nothing: RFC 7644
 * §3.5.2.2), a path it cannot read `invalidPath`, a value it cannot apply `invalidValue`.
 */
function scimPatchError(error: ScimError): AppError {
  const sentence = error.message.replace(/^Invalid SCIM Patch: /, '');
  if (error.scimCode === 'noTarget') return new AppError('scim-no-target', `A PATCH operation has no target: ${sentence}`);
  if (/path/i.test(error.message)) return new AppError('scim-path-invalid', `A PATCH operation's path cannot be applied: ${sentence}`);
  return new AppError('scim-value-invalid', `A PATCH operation cannot be applied: ${sentence}`);
}
