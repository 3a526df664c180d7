import type { InvocationContext } from '@azure/functions';
import { MAX_DEQUEUE_COUNT } from '../shared/config/settings.js';
import type { Delivery } from '../shared/sync/pipeline/jobs.js';

/** Which delivery of the queue message this invocation handles, from the trigger metadata. */
export function deliveryOf(context: InvocationContext): Delivery {
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  return { attempt: Number.isFinite(dequeueCount) && dequeueCount > 0 ? dequeueCount : 1, maxAttempts: MAX_DEQUEUE_COUNT };
}
