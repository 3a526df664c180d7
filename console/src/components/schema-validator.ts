import { Validator, type Schema } from '@cfworker/json-schema';
import { toErrorSchema, type RJSFSchema, type RJSFValidationError, type ValidationData, type ValidatorType } from '@rjsf/utils';

/**
 * The JSON Schema validator behind the console's forms (@rjsf/core needs one): @cfworker/json-schema, which
 * interprets a schema instead of compiling it into code as Ajv does — the console's Content-Security-Policy
 * allows no `eval`/`new Function`. Forms submit without checking (`noValidate`): the API checks every profile
 * (and more than JSON Schema can say) and its 400 is shown at the fields. rjsf still asks `isValid` to tell
 * which option of a choice (`oneOf`) some data is.
 */

/** Errors of a keyword that only says a part below it failed (that part has its own error). */
const WRAPPERS = new Set(['properties', 'items', 'allOf', 'anyOf', 'oneOf', '$ref', 'additionalProperties', 'discriminator', 'if', 'then', 'else']);

const validators = new WeakMap<object, Validator>();

function validatorFor(schema: RJSFSchema): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    // Draft 7: what GET /api/connection-schema answers. All errors, not just the first.
    validator = new Validator(schema as Schema, '7', false);
    validators.set(schema, validator);
  }
  return validator;
}

function errorsOf(schema: RJSFSchema, data: unknown): RJSFValidationError[] {
  return validatorFor(schema)
    .validate(data)
    .errors.filter((unit) => !WRAPPERS.has(unit.keyword))
    .map((unit) => {
      const property = unit.instanceLocation.replace(/^#/, '').split('/').filter(Boolean).map((key) => `.${decodeURIComponent(key)}`).join('');
      return { name: unit.keyword, property, message: unit.error, schemaPath: unit.keywordLocation, stack: `${property || '.'} ${unit.error}` };
    });
}

export const schemaValidator: ValidatorType = {
  validateFormData(formData, schema): ValidationData<unknown> {
    const errors = errorsOf(schema, formData);
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  isValid: (schema, formData) => validatorFor(schema).validate(formData).valid,
  rawValidation: (schema, formData) => ({ errors: errorsOf(schema, formData) as never[] }),
};
