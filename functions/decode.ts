import type { z } from 'zod';
import { AppError } from '../shared/errors/app-error.js';

/** Decodes a queue message with its schema; a malformed one fails with `message-invalid` (and goes to poison). */
export function decodeMessage<T>(schema: z.ZodType<T>, message: unknown): T {
  const parsed = schema.safeParse(message);
  if (parsed.success) return parsed.data;
  throw new AppError('message-invalid', `Malformed job message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}
