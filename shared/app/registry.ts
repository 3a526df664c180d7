import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';

/**
 * The one list of functions (name, trigger, handler). `functions/main.ts` registers it with
 * `@azure/functions`; the local host (`npm start`, the CLI, tests) drives the very same handlers
 * from Azurite queues, a timer and an HTTP port.
 */
export interface TimerFunction {
  name: string;
  trigger: { kind: 'timer'; schedule: string };
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

export interface QueueFunction {
  name: string;
  trigger: { kind: 'queue'; queueName: string };
  /** `message` is the decoded queue message: parsed JSON when it is JSON, as the Functions host does. */
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
}

export interface HttpFunction {
  name: string;
  trigger: { kind: 'http'; route: string; methods: HttpMethod[] };
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
}

export type FunctionDefinition = TimerFunction | QueueFunction | HttpFunction;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

export function isTimerFunction(definition: FunctionDefinition): definition is TimerFunction {
  return definition.trigger.kind === 'timer';
}

export function isQueueFunction(definition: FunctionDefinition): definition is QueueFunction {
  return definition.trigger.kind === 'queue';
}

export function isHttpFunction(definition: FunctionDefinition): definition is HttpFunction {
  return definition.trigger.kind === 'http';
}
