import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { decisionSchema, sourceEntrySchema, storedUserSchema } from '../../shared/sync/model-schemas.js';
import type { Decision, SourceEntry, StoredUser } from '../../shared/sync/model.js';
import { shardPlanSchema, type ShardPlan } from '../../shared/sync/pipeline/staging.js';

/** A type without the `[key: string]: unknown` a loose zod object adds (the user row), at any depth. */
type Known<T> = T extends readonly (infer U)[]
  ? Known<U>[]
  : T extends object
    ? { [K in keyof T as string extends K ? (unknown extends T[K] ? never : K) : K]: Known<T[K]> }
    : T;

describe('the schemas a run checks its files with', () => {
  // Checked by the typecheck (npm run typecheck): a field, reason or action added to a type but not to
  // its schema would be dropped or refused when a run reads its files back.
  it('are exactly the types of model.ts and ShardPlan', () => {
    expectTypeOf<z.output<typeof sourceEntrySchema>>().toEqualTypeOf<SourceEntry>();
    expectTypeOf<Known<z.output<typeof storedUserSchema>>>().toEqualTypeOf<Known<StoredUser>>();
    expectTypeOf<Known<z.output<typeof decisionSchema>>>().toEqualTypeOf<Known<Decision>>();
    expectTypeOf<Known<z.output<typeof shardPlanSchema>>>().toEqualTypeOf<Known<ShardPlan>>();
  });
});
